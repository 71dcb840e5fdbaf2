"""The fake home server's write side: POST /api/v1/statuses as Mastodon answers it, and the token checks.

`FakeStatuses` is added to a test's `mastodon` fixture (`mastodon.accept_posts()`): it wants the write
token as a Bearer header, reads the form fields Mastodon reads (status, in_reply_to_id, visibility,
language), keeps what was posted, and answers a repeated Idempotency-Key with the first post (as
Mastodon does for an hour) instead of posting again. `fail_next` makes the next posts fail: "timeout"
(nothing posted), "timeout_after_posting" (posted, but the answer never arrives), or an HTTP status.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import requests
import responses

HOME = "https://social.test"
WRITE_TOKEN = "write-token-0123456789"


@dataclass
class FakeStatuses:
    mock: responses.RequestsMock
    template: dict  # a status of the city account, for the shape of what we answer
    token: str = WRITE_TOKEN
    app_scopes: list[str] | None = field(default_factory=lambda: ["write:statuses"])  # None: before 4.3
    can_read_account: bool = False
    posted: list[dict] = field(default_factory=list)  # every status really created
    requests: list[dict] = field(default_factory=list)  # every POST, also repeated ones
    keys: dict[str, dict] = field(default_factory=dict)
    fail_next: list[object] = field(default_factory=list)
    next_id: int = 900

    def install(self) -> FakeStatuses:
        self.mock.add_callback(responses.POST, HOME + "/api/v1/statuses", callback=self._post)
        self.mock.add_callback(responses.GET, HOME + "/api/v1/apps/verify_credentials", callback=self._app)
        self.mock.add_callback(responses.GET, HOME + "/api/v1/accounts/verify_credentials", callback=self._account)
        return self

    def _authorized(self, request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    def _app(self, request):
        if not self._authorized(request):
            return 401, {}, json.dumps({"error": "The access token is invalid"})
        if self.app_scopes is None:  # Mastodon before 4.3 wants `read` here
            return 403, {}, json.dumps({"error": "This action is outside the authorized scopes"})
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"id": "7", "name": "praatmee", "website": None, "scopes": self.app_scopes})

    def _account(self, request):
        if not self._authorized(request):
            return 401, {}, json.dumps({"error": "The access token is invalid"})
        if not self.can_read_account:
            return 403, {}, json.dumps({"error": "This action is outside the authorized scopes"})
        return 200, {"Content-Type": "application/json"}, json.dumps(self.template["account"])

    def _post(self, request):
        form = {name: values[0] for name, values in parse_qs(request.body or "").items()}
        key = request.headers.get("Idempotency-Key")
        self.requests.append({"form": form, "key": key})
        if not self._authorized(request):
            return 401, {}, json.dumps({"error": "The access token is invalid"})
        failure = self.fail_next.pop(0) if self.fail_next else None
        if failure == "timeout":
            raise requests.ReadTimeout("the fake server took too long")
        if isinstance(failure, int):
            headers = {"X-RateLimit-Reset": "2030-01-01T00:00:00.000Z"} if failure == 429 else {}
            error = {429: "Too many requests", 422: "Validation failed: Text can't be blank"}.get(failure, "Oops")
            return failure, headers, json.dumps({"error": error})
        if not form.get("status", "").strip():
            return 422, {}, json.dumps({"error": "Validation failed: Text can't be blank"})
        if key and key in self.keys:
            status = self.keys[key]
        else:
            self.next_id += 1
            status = copy.deepcopy(self.template)
            status.update(id=str(self.next_id), url=f"{HOME}/@stad/{self.next_id}",
                          uri=f"{HOME}/users/stad/statuses/{self.next_id}", in_reply_to_id=form.get("in_reply_to_id"),
                          visibility=form.get("visibility", "public"), language=form.get("language"),
                          content="<p>" + form["status"].replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>",
                          replies_count=0, favourites_count=0, reblogs_count=0, poll=None, card=None,
                          media_attachments=[])
            self.posted.append(status)
            if key:
                self.keys[key] = status
        if failure == "timeout_after_posting":
            raise requests.ReadTimeout("posted, but the answer was lost")
        return 200, {"Content-Type": "application/json"}, json.dumps(status)

    def forget_keys(self) -> None:
        """An hour later: Mastodon no longer knows the keys."""
        self.keys.clear()
