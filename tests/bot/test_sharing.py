"""Share links: each platform's share page opens prefilled with the campaign text, the hashtags
and the supporter's referral deep link, correctly URL-encoded."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sharing import referral_link, referral_payload, share_links

LINK = "https://t.me/StepUpBot?start=ref-Ab_9-xYz"
TAGS = "#16Days #StepUpMigrantWomen"


def decoded(url: str) -> tuple[str, dict[str, str]]:
    """(scheme://host/path, {param: decoded value}) of a share URL."""
    parts = urlsplit(url)
    params = {
        name: values[0] for name, values in parse_qs(parts.query, strict_parsing=True).items()
    }
    return f"{parts.scheme}://{parts.netloc}{parts.path}", params


def shared_text(params: dict[str, str]) -> str:
    """Everything the post will contain: its text and, where separate, its link."""
    return " ".join(params.values())


def test_referral_link_is_a_start_deep_link_to_the_bot():
    assert referral_payload("Ab_9-xYz") == "ref-Ab_9-xYz"
    assert referral_link("StepUpBot", "Ab_9-xYz") == LINK


def test_each_platform_opens_its_own_share_page():
    pages = {platform: decoded(url)[0] for platform, url in share_links("Join", TAGS, LINK).items()}
    assert pages == {
        "x": "https://x.com/intent/tweet",
        "bluesky": "https://bsky.app/intent/compose",
        "whatsapp": "https://wa.me/",
        "telegram": "https://t.me/share/url",
    }


def test_every_post_carries_the_text_the_hashtags_and_the_referral_link():
    for url in share_links("Join me: equal protection!", TAGS, LINK).values():
        _, params = decoded(url)
        post = shared_text(params)
        assert "Join me: equal protection!" in post
        assert TAGS in post
        assert LINK in post


def test_x_and_telegram_get_the_link_as_their_url_parameter():
    links = share_links("Join", TAGS, LINK)
    assert decoded(links["x"])[1] == {"text": f"Join {TAGS}", "url": LINK}
    assert decoded(links["telegram"])[1] == {"url": LINK, "text": f"Join {TAGS}"}


def test_hashes_ampersands_and_spaces_are_encoded_so_nothing_is_cut_off():
    url = share_links("Tom & Jerry? 100% #yes", TAGS, LINK)["whatsapp"]
    assert "#" not in url and " " not in url and url.count("&") == 0
    assert decoded(url)[1]["text"] == f"Tom & Jerry? 100% #yes {LINK} {TAGS}"


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_any_campaign_text_survives_the_round_trip(text):
    for url in share_links(text, TAGS, LINK).values():
        assert text in shared_text(decoded(url)[1])
