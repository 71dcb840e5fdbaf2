"""Hostile input spread over every field a status carries; shared by the unit and browser tests.

Each payload, if it ever executed, would set `window.__xss` or open a dialog.
"""
from __future__ import annotations

import copy

from tests.conftest import fixture_json

# (field, payload): content payloads are HTML; every other field is plain text from Mastodon's JSON.
VECTORS: list[tuple[str, str]] = [
    ("content", "<script>window.__xss=1</script><p>hi</p>"),
    ("content", '<img src=x onerror="window.__xss=2">'),
    ("content", '<a href="javascript:window.__xss=3">click</a>'),
    ("content", '<a href="JaVaScRiPt:window.__xss=4">click</a>'),
    ("content", '<a href="  javascript:window.__xss=5">spaced</a>'),
    ("content", '<a href="data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9Njwvc2NyaXB0Pg==">data</a>'),
    ("content", '<a href="vbscript:msgbox(7)">vb</a>'),
    ("content", '<iframe src="javascript:window.__xss=8"></iframe>'),
    ("content", "<style>body{display:none}</style><p>styled</p>"),
    ("content", '<svg onload="window.__xss=9"><circle r="5"/></svg>'),
    ("content", '<object data="javascript:window.__xss=10"></object>'),
    ("content", '<form action="https://evil.example"><input name="x"><button>go</button></form>'),
    ("content", '<p style="position:fixed;top:0">overlay</p>'),
    ("content", '<p onclick="window.__xss=11" onmouseover="window.__xss=12">hover</p>'),
    ("content", '<span class="invisible" onfocus="window.__xss=13" tabindex="0" autofocus>x</span>'),
    ("content", '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss=14">'),
    ("content", '<noscript><p title="</noscript><img src=x onerror=window.__xss=15>">'),
    ("content", '<a href="https://ok.example" onclick="window.__xss=16" target="_blank">ok</a>'),
    ("content", '<base href="javascript:/">'),
    ("content", '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=17">'),
    ("content", '<a href="/relative/path">relative</a>'),
    ("content", '<p>:amsterdam:<a href="https://x.example/:amsterdam:">link</a></p>'),
    ("spoiler_text", '<img src=x onerror="window.__xss=18">CW'),
    ("spoiler_text", "</summary><script>window.__xss=19</script>"),
    ("display_name", '<script>window.__xss=20</script>Mallory'),
    ("display_name", '"><img src=x onerror=window.__xss=21>'),
    ("acct", '<img src=x onerror="window.__xss=22">@evil.example'),
    ("alt", '"><script>window.__xss=23</script>'),
    ("alt", "' onerror='window.__xss=24"),
    ("poll_option", '<img src=x onerror="window.__xss=25">'),
    ("poll_option", ":amsterdam:<script>window.__xss=26</script>"),
    ("card_title", '<script>window.__xss=27</script>Card'),
    ("card_description", '<img src=x onerror="window.__xss=28">'),
    ("card_url", "javascript:window.__xss=29"),
    ("status_url", "javascript:window.__xss=30"),
    ("media_url", "javascript:window.__xss=31"),
    ("emoji_url", "javascript:window.__xss=32"),
    ("emoji_url", 'https://social.test/e.png" onerror="window.__xss=33'),
    ("language", '"><script>window.__xss=34</script>'),
    ("account_url", "data:text/html,<script>window.__xss=35</script>"),
]


def hostile_status(field: str, payload: str, status_id: str = "500") -> dict:
    """A reply (to the fixture root) carrying one payload in one field."""
    status = copy.deepcopy(fixture_json("thread_context.json")["descendants"][0])
    status["id"] = status_id
    status["in_reply_to_id"] = "100"
    status["emojis"] = [{"shortcode": "amsterdam", "url": "https://social.test/e.png",
                         "static_url": "https://social.test/e.png", "visible_in_picker": True}]
    status["account"] = copy.deepcopy(status["account"])
    status["media_attachments"] = [{"id": "9", "type": "image", "url": "https://social.test/m.png",
                                    "preview_url": "https://social.test/m_small.png", "description": "ok"}]
    status["poll"] = {"id": "1", "expired": True, "multiple": False, "votes_count": 1, "voters_count": 1,
                      "expires_at": None, "options": [{"title": "ok", "votes_count": 1}], "emojis": status["emojis"]}
    status["card"] = {"url": "https://card.example", "title": "ok", "description": "ok", "type": "link",
                      "html": '<iframe src="javascript:window.__xss=99"></iframe>'}
    if field == "content":
        status["content"] = payload
    elif field == "spoiler_text":
        status["spoiler_text"] = payload
    elif field == "display_name":
        status["account"]["display_name"] = payload
    elif field == "acct":
        status["account"]["acct"] = payload
    elif field == "account_url":
        status["account"]["url"] = payload
    elif field == "alt":
        status["media_attachments"][0]["description"] = payload
    elif field == "poll_option":
        status["poll"]["options"][0]["title"] = payload
    elif field == "card_title":
        status["card"]["title"] = payload
    elif field == "card_description":
        status["card"]["description"] = payload
    elif field == "card_url":
        status["card"]["url"] = payload
    elif field == "status_url":
        status["url"] = payload
    elif field == "media_url":
        status["media_attachments"][0]["url"] = payload
        status["media_attachments"][0]["preview_url"] = payload
    elif field == "emoji_url":
        status["emojis"][0]["url"] = payload
        status["emojis"][0]["static_url"] = payload
        status["content"] = "<p>:amsterdam:</p>"
    elif field == "language":
        status["language"] = payload
    else:
        raise ValueError(field)
    return status


def hostile_context() -> dict:
    return {"ancestors": [], "descendants": [hostile_status(f, p, str(500 + i)) for i, (f, p) in enumerate(VECTORS)]}
