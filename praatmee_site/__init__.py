"""praatmee: the site behind amsterdam.nl/praatmee.

`create_app` (in `web.app`) is the app factory: `flask --app praatmee_site run` and
`gunicorn 'praatmee_site:create_app()'` find it here. The domain packages (`mastodon`,
`conversation`, `remote_interaction`, `campaigns`, `kpi`, `staff`) never import Flask; `web` does.
"""
from .version import __version__


def create_app(test_config: dict | None = None):
    """Build the app (see `praatmee_site.web.app.create_app`)."""
    from .web.app import create_app as build
    return build(test_config)


__all__ = ["__version__", "create_app"]
