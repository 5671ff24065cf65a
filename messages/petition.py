"""The petition journey and the share step: what they say, their keyboards and callback data."""

from __future__ import annotations

import functools
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.campaign import Campaign
from bot.petition import PetitionCounts
from messages import keyboards
from messages.i18n import Html, label, text

SIGNED = "petition:signed"
SHARE_DONE = "share:done"


def count_lines(lang: str, counts: PetitionCounts | None, supporter: dict[str, Any]) -> list[str]:
    """The total, and their constituency's count once the MP journey has told us where they are."""
    if counts is None:
        return []
    lines = [text(lang, "petition.count_total", count=counts.total)]
    code = supporter.get("constituency_code")
    if code in counts.by_constituency:
        lines.append(
            text(
                lang,
                "petition.count_constituency",
                count=counts.by_constituency[code],
                constituency=supporter.get("constituency_name") or code,
            )
        )
    return lines


def petition_text(
    lang: str,
    campaign: Campaign,
    counts: PetitionCounts | None,
    supporter: dict[str, Any],
    signed: bool,
) -> Html:
    blocks = [text(lang, "petition.intro", ask=campaign.petition_ask(lang))]
    if not signed:  # the button it names is there only until they have signed
        blocks.append(text(lang, "petition.how_to_sign"))
    if lines := count_lines(lang, counts, supporter):
        blocks.append("\n".join(lines))
    if signed:
        blocks.append(text(lang, "petition.already_signed"))
    return Html("\n\n".join(blocks))


def share_row(lang: str) -> list[InlineKeyboardButton]:
    return [keyboards.button(lang, "petition.share_button", keyboards.journey_data("share"))]


@functools.cache  # the campaign's one petition address
def petition_keyboard(lang: str, url: str, signed: bool) -> InlineKeyboardMarkup:
    open_petition_row = [InlineKeyboardButton(label(lang, "petition.open_button"), url=url)]
    next_row = (
        share_row(lang) if signed else [keyboards.button(lang, "petition.signed_button", SIGNED)]
    )
    return keyboards.Keyboard([open_petition_row, next_row, keyboards.menu_row(lang)])


@functools.cache
def signed_keyboard(lang: str) -> InlineKeyboardMarkup:
    """After "I've signed": on to the share step, or back to the menu."""
    return keyboards.Keyboard([share_row(lang), keyboards.menu_row(lang)])


def share_keyboard(lang: str, links: dict[str, str], shared: bool) -> InlineKeyboardMarkup:
    platforms = [
        InlineKeyboardButton(label(lang, f"petition.share.button_{platform}"), url=url)
        for platform, url in links.items()
    ]
    markup = keyboards.rows(*platforms)
    if not shared:
        markup.append([keyboards.button(lang, "petition.share.done_button", SHARE_DONE)])
    markup.append(keyboards.menu_row(lang))
    return keyboards.Keyboard(markup)
