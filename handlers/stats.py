"""Organiser figures: /stats (the numbers, then a chart) and /export (CSV files of totals)."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application

from bot.app.context import Context
from bot.stats import export_csvs, gather_stats
from bot.storage import utcnow
from handlers.common import language, organiser_only, remember, reply, routes
from messages import text
from messages.stats import actions_chart, render_stats


@organiser_only
async def show_stats(update: Update, context: Context) -> None:
    """/stats: the campaign's figures, then a chart of actions per day."""
    lang = language(update, context)
    data = context.bot_data
    stats = await data.storage.read(gather_stats, data.campaign, utcnow())
    await reply(update, context, render_stats(lang, stats))
    # Drawing takes a few hundred milliseconds: off the event loop, so supporters never wait.
    chart = await asyncio.to_thread(actions_chart, lang, stats)
    photo = await context.bot.send_photo(
        update.effective_chat.id, chart, caption=text(lang, "stats.chart_caption")
    )
    remember(context, photo.chat_id, photo.message_id)


@organiser_only
async def export_files(update: Update, context: Context) -> None:
    """/export: per day, per constituency and per broadcast totals as CSV files."""
    lang = language(update, context)
    today = utcnow().date()
    files = await context.bot_data.storage.read(export_csvs, today)
    for name, data in files.items():
        document = await context.bot.send_document(
            update.effective_chat.id,
            data,
            filename=f"stepup-{name.replace('_', '-')}-{today.isoformat()}.csv",
            caption=text(lang, f"stats.export_{name}"),
        )
        remember(context, document.chat_id, document.message_id)
    await reply(update, context, text(lang, "stats.export_done"))


COMMANDS = {"stats": show_stats, "export": export_files}


def register(app: Application) -> None:
    app.add_handlers(routes(COMMANDS, []))
