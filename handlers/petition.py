"""The petition journey and the share step: sign, see the count grow, bring others in."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application

from bot import sharing
from bot.campaign import Campaign
from bot.context import Context
from bot.petition import PetitionCounter, PetitionCounts
from bot.progress import PETITION_SIGNED, SHARED
from handlers.common import language, routes, show, user_id
from messages import keyboards, text
from messages.i18n import Html
from messages.render import BABEL_LOCALES

SIGNED = "petition:signed"
SHARE_DONE = "share:done"


# --- domain glue --------------------------------------------------------------------------------


def petition_counter(context: Context) -> PetitionCounter:
    """The process's one counter, so every supporter shares its once-a-minute cache."""
    services = context.bot_data.services
    if "petition_counter" not in services:
        services["petition_counter"] = PetitionCounter(context.bot_data.http)
    return services["petition_counter"]


def supporter_row(update: Update, context: Context) -> dict[str, Any]:
    row, _ = context.bot_data.storage.ensure_supporter(user_id(update), language(update, context))
    return row


def record_once(update: Update, context: Context, kind: str) -> None:
    """Record an action the first time only, so pressing a button twice counts once."""
    storage = context.bot_data.storage
    if kind not in storage.done_actions(user_id(update)):
        storage.record_action(user_id(update), kind)


# --- rendering ----------------------------------------------------------------------------------


def number(lang: str, value: int) -> str:
    """12,345 in English, 12.345 in Portuguese and Spanish."""
    return format_decimal(value, locale=BABEL_LOCALES[lang])


def count_lines(lang: str, counts: PetitionCounts | None, supporter: dict[str, Any]) -> list[str]:
    """The total, and their constituency's count once the MP journey has told us where they are."""
    if counts is None:
        return []
    lines = [text(lang, "petition.count_total", total=number(lang, counts.total))]
    code = supporter.get("constituency_code")
    if code in counts.by_constituency:
        lines.append(
            text(
                lang,
                "petition.count_constituency",
                count=number(lang, counts.by_constituency[code]),
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
    if lines := count_lines(lang, counts, supporter):
        blocks.append("\n".join(lines))
    if signed:
        blocks.append(text(lang, "petition.already_signed"))
    return Html("\n\n".join(blocks))


def share_button(lang: str) -> list[InlineKeyboardButton]:
    return [keyboards.button(lang, "petition.share_button", keyboards.journey_data("share"))]


def menu_button(lang: str) -> list[InlineKeyboardButton]:
    return [keyboards.button(lang, "core.menu.button_back", keyboards.MENU)]


def petition_keyboard(lang: str, url: str, signed: bool) -> InlineKeyboardMarkup:
    open_petition_row = [InlineKeyboardButton(text(lang, "petition.open_button"), url=url)]
    next_row = (
        share_button(lang) if signed else [keyboards.button(lang, "petition.signed_button", SIGNED)]
    )
    return InlineKeyboardMarkup([open_petition_row, next_row, menu_button(lang)])


def share_keyboard(lang: str, links: dict[str, str], shared: bool) -> InlineKeyboardMarkup:
    platforms = [
        InlineKeyboardButton(text(lang, f"petition.share.button_{platform}"), url=url)
        for platform, url in links.items()
    ]
    markup = keyboards.rows(*platforms)
    if not shared:
        markup.append([keyboards.button(lang, "petition.share.done_button", SHARE_DONE)])
    markup.append(menu_button(lang))
    return InlineKeyboardMarkup(markup)


# --- callbacks ----------------------------------------------------------------------------------


async def open_petition(update: Update, context: Context) -> None:
    """The ask, a button to the petition, live counts where there are any, and "I've signed"."""
    lang = language(update, context)
    campaign = context.bot_data.campaign
    url = str(campaign.petition_url)
    supporter = supporter_row(update, context)
    signed = PETITION_SIGNED in context.bot_data.storage.done_actions(user_id(update))
    counts = await petition_counter(context).counts(url)
    await show(
        update,
        context,
        petition_text(lang, campaign, counts, supporter, signed),
        petition_keyboard(lang, url, signed),
    )


async def confirm_signed(update: Update, context: Context) -> None:
    """ "I've signed": count it once, thank them and offer the share step."""
    record_once(update, context, PETITION_SIGNED)
    lang = language(update, context)
    markup = InlineKeyboardMarkup([share_button(lang), menu_button(lang)])
    await show(update, context, text(lang, "petition.thanks"), markup)


async def open_share(update: Update, context: Context) -> None:
    """Ready-made posts for X, Bluesky, WhatsApp and Telegram carrying their referral link."""
    lang = language(update, context)
    campaign = context.bot_data.campaign
    link = sharing.referral_link(
        context.bot.username, supporter_row(update, context)["referral_code"]
    )
    links = sharing.share_links(campaign.share_text(lang), campaign.hashtag_line, link)
    shared = SHARED in context.bot_data.storage.done_actions(user_id(update))
    await show(
        update,
        context,
        text(lang, "petition.share.intro", link=link),
        share_keyboard(lang, links, shared),
    )


async def confirm_shared(update: Update, context: Context) -> None:
    """ "I've shared": count it once and thank them."""
    record_once(update, context, SHARED)
    lang = language(update, context)
    await show(
        update,
        context,
        text(lang, "petition.share.thanks"),
        InlineKeyboardMarkup([menu_button(lang)]),
    )


# Exact patterns: anything else under these prefixes (stale or tampered) falls through to the
# catch-all stale-button handler, which answers politely and shows the menu.
BUTTONS = [(f"^{SIGNED}$", confirm_signed), (f"^{SHARE_DONE}$", confirm_shared)]


def register(app: Application) -> None:
    app.add_handlers(routes({}, BUTTONS))
    app.bot_data.journeys["petition"] = open_petition
    app.bot_data.journeys["share"] = open_share
