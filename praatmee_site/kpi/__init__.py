"""The seed's KPIs for meaningful interaction: `collect` fills daily snapshots, `figures` computes
from them, `charts` draws them (SVG with a table) and `exports` writes CSV and JSON. No Flask here."""
from .collect import *  # noqa: F401,F403 - the package's public face: kpi.collect, kpi.today, …
from .collect import ACCOUNT_NOT_FOUND, DEFAULT_RESERVE, MAX_PAGES, MIN_INTERVAL, PAGE_SIZE, RATE_LIMIT_LOW, UNREACHABLE  # noqa: F401
from .figures import *  # noqa: F401,F403
