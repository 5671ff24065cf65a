"""Gates every update passes before any journey sees it: fairness, then bookkeeping."""

from __future__ import annotations

import time
from dataclasses import dataclass

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.app.context import Context
from handlers.common import language
from handlers.onboarding import start_payload
from messages import text
from messages.i18n import language_for


@dataclass
class Bucket:
    tokens: float
    refilled_at: float
    warned: bool = False


class FloodGate:
    """A token bucket per user: one person flooding the bot cannot starve everyone else (X6)."""

    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.buckets: dict[int, Bucket] = {}

    def admit(self, user_id: int) -> Bucket | None:
        """Take a token; None means admitted, a bucket means refused (and whether we warned)."""
        now = self.clock()
        bucket = self.buckets.setdefault(user_id, Bucket(self.capacity, now))
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.refilled_at) * self.rate)
        bucket.refilled_at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return None
        return bucket


async def limit_flood(update: Update, context: Context) -> None:
    """Drop updates past a user's allowance, warning them once per burst."""
    user = update.effective_user
    if user is None:
        return
    gate: FloodGate = context.bot_data.services["flood_gate"]
    refused = gate.admit(user.id)
    if refused is None:
        return
    if not refused.warned and update.effective_chat:
        refused.warned = True
        await context.bot.send_message(
            update.effective_chat.id, text(language(update, context), "core.errors.slow_down")
        )
    raise ApplicationHandlerStop


async def know_supporter(update: Update, context: Context) -> None:
    """Make sure the person has a supporter row, and note their messages for /forget."""
    user = update.effective_user
    if user is None or update.effective_chat is None or update.effective_chat.type != "private":
        return
    storage = context.bot_data.storage
    supporter = storage.get_supporter(user.id)
    if supporter is None:
        supporter, _ = storage.ensure_supporter(
            user.id, language_for(user.language_code), start_payload(update)
        )
    elif supporter["blocked_at"]:
        storage.unblock(user.id)
    context.language = supporter["language"]
    context.message_ids = (
        [(update.message.chat_id, update.message.message_id)] if update.message else []
    )


def register(app: Application) -> None:
    app.bot_data.services["flood_gate"] = FloodGate(app.bot_data.settings.user_updates_per_minute)
    app.add_handler(TypeHandler(Update, limit_flood), group=-3)
    app.add_handler(TypeHandler(Update, know_supporter), group=-2)
