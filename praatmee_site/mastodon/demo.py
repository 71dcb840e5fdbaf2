"""Offline demo: a requests transport that answers the home-server API from bundled JSON.

The JSON files in `demo/` are in Mastodon's documented entity format, so demo mode runs the
real client, parser and templates; only the network is replaced. Every post says "voorbeeld".
"""
from __future__ import annotations

import json
import re
from importlib import resources
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter

ROUTES = [
    (re.compile(r"/api/v1/accounts/lookup"), "account_lookup.json"),
    (re.compile(r"/api/v1/accounts/[^/]+/statuses"), None),  # pinned or not: see _statuses
    (re.compile(r"/api/v1/statuses/(\d+)/context"), "context_{0}.json"),
    (re.compile(r"/api/v1/statuses/(\d+)"), "status_{0}.json"),
    (re.compile(r"/api/v2/instance/?"), "instance_v2.json"),
]


def _read(name: str) -> bytes | None:
    try:
        return resources.files("praatmee_site.mastodon").joinpath("demo", name).read_bytes()
    except (FileNotFoundError, OSError):
        return None


class DemoAdapter(BaseAdapter):
    """Mount on the home server's URL; anything we have no file for is a Mastodon-style 404."""

    def send(self, request, **kwargs):  # noqa: D401 - requests' adapter interface
        parts = urlsplit(request.url)
        body = None
        for pattern, name in ROUTES:
            match = pattern.fullmatch(parts.path)
            if not match:
                continue
            if name is None:
                name = "statuses_pinned.json" if "pinned=true" in parts.query else "statuses.json"
            body = _read(name.format(*match.groups()))
            break
        if parts.path.rstrip("/") == "/api/v1/instance/rules":
            instance = json.loads(_read("instance_v2.json") or b"{}")
            body = json.dumps(instance.get("rules", [])).encode()
        response = requests.Response()
        response.request = request
        response.url = request.url
        response.status_code = 200 if body is not None else 404
        response._content = body if body is not None else b'{"error":"Record not found"}'
        response.headers["Content-Type"] = "application/json; charset=utf-8"
        response.encoding = "utf-8"
        return response

    def close(self):
        pass
