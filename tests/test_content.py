"""Sanitizing and shaping a thread: nothing executable survives, the tree reads in order."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from praatmee_site.conversation.display import ImagePolicy, emojify, emojify_html, sanitize_html, shape_thread
from praatmee_site.mastodon import Emoji, build_thread, parse_context, parse_status
from tests.conftest import fixture_json
from tests.support.xss_corpus import VECTORS, hostile_context

IMAGES = ImagePolicy.for_urls("https://social.test")


def fixture_thread():
    root = parse_status(fixture_json("thread_status.json"))
    return build_thread(root, parse_context(fixture_json("thread_context.json")))


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict]]:
    parser = Elements()
    parser.feed(html)
    return parser.found


DANGEROUS_TAGS = {"script", "iframe", "style", "svg", "object", "embed", "form", "input", "button", "base",
                  "meta", "math", "noscript", "frame", "link"}


def executable_parts(html: str, *, allowed_scripts=(), allowed_meta=False) -> list:
    """Everything in `html` that could run or restyle: the list must be empty."""
    bad = []
    for tag, attrs in elements(html):
        if tag in DANGEROUS_TAGS:
            if tag == "script" and attrs.get("src") in allowed_scripts:
                continue
            if tag == "meta" and allowed_meta and "http-equiv" not in attrs:
                continue
            if tag == "link" and attrs.get("rel") in ("stylesheet", "canonical"):
                continue
            bad.append((tag, attrs))
        for name, value in attrs.items():
            if name.startswith("on") or name == "style" or name == "srcdoc":
                bad.append((tag, name, value))
            if name in ("href", "src", "action", "formaction", "data", "poster", "xlink:href") and value:
                if value.strip().lower().split(":")[0] in ("javascript", "data", "vbscript"):
                    bad.append((tag, name, value))
    return bad


# --- sanitizer --------------------------------------------------------------------------------

def test_keeps_mastodon_vocabulary():
    html = ('<p>Hoi <span class="h-card"><a href="https://social.test/@ann" class="u-url mention">@<span>ann</span></a>'
            '</span> <a href="https://social.test/tags/fiets" class="mention hashtag">#<span>fiets</span></a><br>'
            '<strong>b</strong> <em>i</em> <del>d</del> <code>c</code></p><blockquote><ul><li>x</li></ul></blockquote>')
    clean = sanitize_html(html)
    for kept in ('class="h-card"', 'class="u-url mention"', 'class="mention hashtag"', "<br>", "<strong>", "<em>",
                 "<del>", "<code>", "<blockquote>", "<ul>", "<li>"):
        assert kept in clean


def test_links_get_nofollow_noopener_ugc_and_lose_target():
    clean = sanitize_html('<a href="https://x.example" target="_blank" rel="me">x</a>')
    assert 'rel="nofollow noopener ugc"' in clean
    assert "target" not in clean


def test_relative_and_non_http_links_lose_their_href():
    for href in ("/relative", "mailto:a@b.c", "javascript:alert(1)", "data:text/html,x", "ftp://x.example/f"):
        assert "href" not in sanitize_html(f'<a href="{href}">x</a>'), href


def test_unknown_classes_are_dropped_but_invisible_and_ellipsis_stay():
    clean = sanitize_html('<span class="invisible evil">https://</span><span class="ellipsis big">example.org/lo</span>')
    assert 'class="invisible"' in clean and 'class="ellipsis"' in clean
    assert "evil" not in clean and "big" not in clean


@pytest.mark.parametrize("field, payload", [v for v in VECTORS if v[0] == "content"])
def test_content_vectors_are_inert_after_sanitizing(field, payload):
    assert executable_parts(sanitize_html(payload)) == []


def test_emoji_in_display_name_is_an_image_with_shortcode_alt_and_the_rest_is_escaped():
    emoji = (Emoji("amsterdam", "https://social.test/e.png"),)
    name = emojify('<b>Stad</b> :amsterdam: :unknown:', emoji, IMAGES)
    assert '&lt;b&gt;Stad&lt;/b&gt;' in name
    assert '<img class="emoji" src="https://social.test/e.png" alt=":amsterdam:"' in name
    assert ":unknown:" in name


def test_emoji_from_an_origin_we_do_not_allow_stays_text():
    emoji = (Emoji("amsterdam", "https://elsewhere.example/e.png"),)
    assert "<img" not in emojify(":amsterdam:", emoji, IMAGES)


def test_emoji_shortcodes_inside_attributes_are_left_alone():
    emoji = (Emoji("amsterdam", "https://social.test/e.png"),)
    html = emojify_html(sanitize_html('<p>:amsterdam: <a href="https://x.example/:amsterdam:">l</a></p>'), emoji, IMAGES)
    assert 'href="https://x.example/:amsterdam:"' in html
    assert html.count("<img") == 1


# --- the tree ---------------------------------------------------------------------------------

def test_root_first_then_depth_first_oldest_first_within_a_branch():
    posts = shape_thread(fixture_thread(), home_domain="social.test", images=IMAGES)
    assert [p.id for p in posts] == ["100", "106", "101", "102", "103", "104", "105", "107", "109"]
    assert [p.depth for p in posts] == [0, 1, 1, 2, 3, 3, 3, 1, 1]


def test_deep_replies_are_flattened_and_say_whom_they_answer():
    posts = {p.id: p for p in shape_thread(fixture_thread(), home_domain="social.test", images=IMAGES)}
    assert posts["103"].reply_to is None  # depth 3 still shows by indentation
    assert posts["104"].reply_to == "@ann@social.test"
    assert posts["105"].reply_to == "@stad@social.test"


def test_private_and_direct_replies_never_reach_the_page():
    ids = [p.id for p in shape_thread(fixture_thread(), home_domain="social.test", images=IMAGES)]
    assert "108" not in ids and "110" not in ids


def test_reply_to_a_hidden_post_hangs_under_the_root():
    root = parse_status(fixture_json("thread_status.json"))
    context = fixture_json("thread_context.json")
    orphan = {**context["descendants"][0], "id": "300", "in_reply_to_id": "108"}  # 108 is private
    thread = build_thread(root, parse_context({"descendants": context["descendants"] + [orphan]}))
    posts = shape_thread(thread, home_domain="social.test", images=IMAGES)
    assert [p.depth for p in posts if p.id == "300"] == [1]


def test_a_very_long_reply_chain_does_not_recurse_or_indent_past_the_cap():
    root = parse_status(fixture_json("thread_status.json"))
    one = fixture_json("thread_context.json")["descendants"][0]
    chain = [{**one, "id": str(2000 + i), "in_reply_to_id": str(2000 + i - 1) if i else "100"} for i in range(1500)]
    posts = shape_thread(build_thread(root, parse_context({"descendants": chain})), home_domain="social.test",
                         images=IMAGES)
    assert len(posts) == 1501
    assert max(p.depth for p in posts) == 3


def test_images_only_from_allowed_origins_with_alt_and_media_from_elsewhere_as_links():
    posts = {p.id: p for p in shape_thread(fixture_thread(), home_domain="social.test", images=IMAGES)}
    assert posts["100"].media[0].show_image is True
    assert posts["100"].media[0].description == "Een rij fietsen voor het station"
    assert posts["101"].media[0].description == ""
    video = posts["109"].media[0]
    assert video.kind == "video" and video.show_image is False


def test_poll_percentages():
    poll = shape_thread(fixture_thread(), home_domain="social.test", images=IMAGES)[0].poll
    assert [o.percent for o in poll.options] == [75, 25]
    assert poll.voters == 40 and poll.expired is True
    assert '<img class="emoji"' in poll.options[1].title


def test_multiple_choice_poll_counts_voters_like_mastodon():
    status = parse_status({**fixture_json("thread_status.json"), "poll": {
        "id": "1", "expired": False, "multiple": True, "votes_count": 64, "voters_count": 47, "expires_at": None,
        "options": [{"title": "a", "votes_count": 47}, {"title": "b", "votes_count": 17}]}})
    from praatmee_site.mastodon import Thread
    poll = shape_thread(Thread(status, ()), home_domain="social.test", images=IMAGES)[0].poll
    assert [o.percent for o in poll.options] == [100, 36]


# --- the whole page, every vector at once --------------------------------------------------------

def test_xss_corpus_has_at_least_thirty_vectors_over_every_field():
    assert len(VECTORS) >= 30
    assert {f for f, _ in VECTORS} >= {"content", "spoiler_text", "display_name", "acct", "alt", "poll_option",
                                       "card_title", "card_description", "card_url", "status_url", "media_url",
                                       "emoji_url", "language"}


def test_rendered_page_with_the_whole_corpus_contains_nothing_executable(client, mastodon):
    mastodon.standard()
    mastodon.mock.replace("GET", "https://social.test/api/v1/statuses/100/context", json=hostile_context())
    page = client.get("/")
    assert page.status_code == 200
    body = page.text[page.text.index("<main"):page.text.index("</main>")]
    assert body.count('class="post"') >= len(VECTORS)  # every hostile reply is shown, as text
    assert executable_parts(body) == []
    assert "<iframe" not in body
    assert 'href="/relative/path"' not in body


def test_strangers_cannot_set_lang_or_title_on_anything():
    clean = sanitize_html('<p lang="fr" title="x">a <a href="https://x.example" title="y" lang="de">b</a></p>')
    assert "lang=" not in clean and "title=" not in clean
