"""Sharing the campaign: a supporter's referral deep link, and ready-made posts carrying it.

A recruit who opens the link starts the bot with `/start ref-<code>`, which is stored as their
`referral_source`, so organisers can count recruits per referrer without knowing who anyone is.
Each platform's share page is opened with the text filled in; the person still decides to post.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

REFERRAL_PREFIX = "ref-"


def referral_payload(referral_code: str) -> str:
    """The deep-link payload that marks a recruit as brought in by this code."""
    return f"{REFERRAL_PREFIX}{referral_code}"


def referral_link(bot_username: str, referral_code: str) -> str:
    """https://t.me/<bot>?start=ref-<code>: opens the bot and records who invited them."""
    return f"https://t.me/{bot_username}?start={referral_payload(referral_code)}"


def _url(base: str, **params: str) -> str:
    # Fully encoded, spaces as %20: every platform decodes that the same way.
    return f"{base}?{urlencode(params, quote_via=quote)}"


def share_links(text: str, hashtags: str, link: str) -> dict[str, str]:
    """Share URL per platform (x, bluesky, whatsapp, telegram: button order), each prefilled
    with `text`, the `hashtags` line ("#16Days #StepUpMigrantWomen") and `link`. X and Telegram
    take the link as a parameter of its own; Bluesky and WhatsApp have only a text field."""
    with_tags = f"{text} {hashtags}"
    with_link = f"{text} {link} {hashtags}"
    return {
        "x": _url("https://x.com/intent/tweet", text=with_tags, url=link),
        "bluesky": _url("https://bsky.app/intent/compose", text=with_link),
        "whatsapp": _url("https://wa.me/", text=with_link),
        "telegram": _url("https://t.me/share/url", url=link, text=with_tags),
    }
