"""Posting as the city account: the one place that writes to Mastodon (PRAATMEE_MASTODON_WRITE_TOKEN).

The token should hold `write:statuses` and nothing else. `check_token` asks the server what the token
may do, where the API lets us: /api/v1/apps/verify_credentials names the scopes of the token's app
(Mastodon 4.3 and later, for any token), and /api/v1/accounts/verify_credentials answers only a token
that may read the account (`profile` or `read:accounts`). `post_status` sends one status with an
Idempotency-Key, so the same key never makes a second post (Mastodon keeps keys for an hour). Its
own session, never the reader's cache, never a redirect. No Flask in this module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from .entities import (
    BadResponse,
    MastodonError,
    RateLimited,
    Status,
    Timeout,
    Unavailable,
    _checked,
    parse_status,
    parse_time,
)

WANTED_SCOPES = frozenset({"write:statuses"})


class Refused(MastodonError):
    """The server said no (4xx other than 429): a bad token, a missing scope, a rejected status."""

    kind = "refused"

    def __init__(self, message: str, status_code: int, error: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.error = error  # the server's own words, e.g. "Validation failed: Text can't be blank"


@dataclass(frozen=True)
class TokenCheck:
    """What the server told us about the token. `problem` is None when it may only post statuses."""

    problem: str | None  # None, "invalid", "too_broad", "can_read" or "unreachable"
    scopes: tuple[str, ...] = ()  # as the server named them, when it did
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


class StatusWriter:
    def __init__(self, base_url: str, token: str, *, user_agent: str, connect_timeout: float = 2.0,
                 read_timeout: float = 10.0, session: requests.Session | None = None):
        if not token:
            raise ValueError("a StatusWriter needs the write token")
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": user_agent, "Accept": "application/json",
                                     "Authorization": f"Bearer {token}"})

    # -- the token ---------------------------------------------------------------------------
    def check_token(self) -> TokenCheck:
        try:
            app = self._request("GET", "/api/v1/apps/verify_credentials")
        except Refused as refused:
            if refused.status_code == 401:
                return TokenCheck("invalid", detail=refused.error)
            app = None  # before Mastodon 4.3 this needs `read`: a write-only token gets 403 here
        except MastodonError as error:
            return TokenCheck("unreachable", detail=str(error))
        scopes: tuple[str, ...] = ()
        if isinstance(app, dict) and isinstance(app.get("scopes"), list):
            scopes = tuple(str(scope) for scope in app["scopes"])
            extra = set(scopes) - WANTED_SCOPES
            if extra:
                return TokenCheck("too_broad", scopes, ", ".join(sorted(extra)))
        try:
            self._request("GET", "/api/v1/accounts/verify_credentials")
        except Refused as refused:
            if refused.status_code == 401:
                return TokenCheck("invalid", scopes, refused.error)
            return TokenCheck(None, scopes)  # 403 (outside the scopes) or 422 (no user): it cannot read
        except MastodonError as error:
            return TokenCheck("unreachable", scopes, str(error))
        return TokenCheck("can_read", scopes, "GET /api/v1/accounts/verify_credentials answered")

    # -- posting -----------------------------------------------------------------------------
    def post_status(self, text: str, *, in_reply_to_id: str, idempotency_key: str, language: str = "nl",
                    visibility: str = "public") -> Status:
        """Post one status; the same `idempotency_key` gives back the first post instead of a second."""
        raw = self._request("POST", "/api/v1/statuses", data={
            "status": text, "in_reply_to_id": in_reply_to_id, "visibility": visibility, "language": language,
        }, headers={"Idempotency-Key": idempotency_key})
        return _checked(parse_status, raw)

    def _request(self, method: str, path: str, **kwargs) -> Any:
        try:
            response = self.session.request(method, self.base_url + path, timeout=self.timeout,
                                            allow_redirects=False, **kwargs)
        except requests.Timeout as exc:
            raise Timeout(f"{path}: {exc.__class__.__name__}") from None
        except requests.RequestException as exc:
            raise Unavailable(f"{path}: {exc.__class__.__name__}") from None
        if response.status_code == 429:
            raise RateLimited(f"{path}: 429", _retry_at(response))
        if 400 <= response.status_code < 500:
            raise Refused(f"{path}: HTTP {response.status_code}", response.status_code, _error_of(response))
        if response.status_code != 200:
            raise Unavailable(f"{path}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise BadResponse(f"{path}: invalid JSON") from None


def _error_of(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return " ".join(error.split())[:200] if isinstance(error, str) else ""


def _retry_at(response: requests.Response) -> float:
    reset = parse_time(response.headers.get("X-RateLimit-Reset"))
    return reset.timestamp() if reset is not None else 0.0
