"""The Flask extensions, created once here and bound to each app with `init_app` (in `web.app`)."""
from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

babel = Babel()
# Per client address (after ProxyFix); in memory per process unless REDIS_URL (or RATELIMIT_STORAGE_URI)
# names a shared store: see `web.app.configure_rate_limits`.
limiter = Limiter(get_remote_address, default_limits=[], headers_enabled=True)
# Every POST carries a token, except "Reageer direct", which changes nothing on our side (web.reply).
csrf = CSRFProtect()
