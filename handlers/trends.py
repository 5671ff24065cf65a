"""/trends for organisers: posts per day per hashtag and source as a chart, then the digest."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application

from bot.app.context import Context
from bot.stats import stats_days
from bot.storage import utcnow
from bot.tracking import daily_volume, digest
from handlers.common import language, organiser_only, remember, reply, routes
from messages import text
from messages.trends import render_digest, trends_chart
from scheduler.tracking import configured_sources, next_poll


@organiser_only
async def show_trends(update: Update, context: Context) -> None:
    """/trends: the hashtags' daily volume as a chart, then the day's change and top posts."""
    lang = language(update, context)
    data = context.bot_data
    if configured_sources(data) is None:
        await reply(update, context, text(lang, "trends.not_configured"))
        return
    today = utcnow().date()  # tracking days are UTC days
    # As many days back as the campaign lasts: on its last day, the whole campaign.
    volume = daily_volume(data.storage, data.campaign.total_days, today=today)
    first_counted = min((day for _, _, day in volume), default=None)
    days = stats_days(data.campaign, today, first_counted)
    title = text(lang, "trends.chart_title")
    # Drawing takes a few hundred milliseconds: off the event loop, so supporters never wait.
    chart = await asyncio.to_thread(trends_chart, lang, volume, days)
    # The digest may be longer than a caption may be (1024 characters): it follows on its own.
    photo = await context.bot.send_photo(update.effective_chat.id, chart, caption=title)
    remember(context, photo.chat_id, photo.message_id)
    facts = digest(data.storage, today, next_poll=next_poll(context.application))
    await reply(update, context, render_digest(lang, facts))


COMMANDS = {"trends": show_trends}


def register(app: Application) -> None:
    app.add_handlers(routes(COMMANDS, []))
