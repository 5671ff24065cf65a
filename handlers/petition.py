"""The petition journey and the share step: sign, see the count grow, bring others in."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application

from bot import sharing
from bot.app.context import BotStopping, Context
from bot.progress import PETITION_SIGNED, SHARED
from handlers.common import (
    language,
    looking_up,
    routes,
    show,
    user_id,
)
from messages import keyboards, text
from messages.petition import (
    SHARE_DONE,
    SIGNED,
    petition_keyboard,
    petition_text,
    share_keyboard,
    signed_keyboard,
)

# --- domain glue --------------------------------------------------------------------------------


def supporter_row(update: Update, context: Context) -> dict[str, Any]:
    row, _ = context.bot_data.storage.ensure_supporter(user_id(update), language(update, context))
    return row


def record_once(update: Update, context: Context, kind: str) -> None:
    """Record an action the first time only, so pressing a button twice counts once."""
    storage = context.bot_data.storage
    if kind not in storage.done_actions(user_id(update)):
        storage.record_action(user_id(update), kind)


# --- callbacks ----------------------------------------------------------------------------------


async def open_petition(update: Update, context: Context) -> None:
    """The ask, a button to the petition, live counts where there are any, and "I've signed"."""
    lang = language(update, context)
    campaign = context.bot_data.campaign
    url = str(campaign.petition_url)
    supporter = supporter_row(update, context)
    signed = PETITION_SIGNED in context.bot_data.storage.done_actions(user_id(update))
    counter = context.bot_data.petition_counter
    if counter.will_fetch(url):
        await looking_up(update, context)
    try:
        counts = await context.bot_data.unless_stopping(counter.counts(url))
    except BotStopping:
        counts = None  # the petition without its count, rather than a late stop
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
    await show(update, context, text(lang, "petition.thanks"), signed_keyboard(lang))


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
        keyboards.back_to_menu(lang),
    )


# Exact patterns: anything else under these prefixes (stale or tampered) falls through to the
# catch-all stale-button handler, which answers politely and shows the menu.
BUTTONS = [(f"^{SIGNED}$", confirm_signed), (f"^{SHARE_DONE}$", confirm_shared)]


def register(app: Application) -> None:
    app.add_handlers(routes({}, BUTTONS))
    app.bot_data.journeys["petition"] = open_petition
    app.bot_data.journeys["share"] = open_share
