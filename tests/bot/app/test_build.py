"""The application as `stepup-bot run` builds it (`bot.app.build`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator

from telegram.ext import BaseHandler, ConversationHandler

from bot.app.build import organisers_said
from bot.app.offline import Fault
from tests.support.harness import GIVE_UP_SECONDS, make_settings, until


def every_handler(handlers: Iterable[BaseHandler]) -> Iterator[BaseHandler]:
    """Each handler, and inside a conversation each of its entry points, states and fallbacks."""
    for handler in handlers:
        yield handler
        if isinstance(handler, ConversationHandler):
            inside = [*handler.entry_points, *handler.fallbacks]
            inside += [nested for step in handler.states.values() for nested in step]
            yield from every_handler(inside)


async def test_every_handler_finishes_before_its_update_is_saved(chat):
    """`StepUpApplication.update_persistence` saves each conversation's state as it stands
    after the update: a handler run with block=False would leave a state still pending, saved
    as such, and a restart would not resume that conversation."""
    registered = [handler for group in chat.app.handlers.values() for handler in group]
    assert chat.app.bot.defaults.block
    assert all(handler.block for handler in every_handler(registered))


def test_the_start_up_line_counts_organisers_in_plain_english(tmp_path):
    """What `stepup-bot check` and the start-up log line say about ORGANISER_IDS."""
    said = [
        organisers_said(make_settings(tmp_path, organiser_ids=ids)) for ids in ([], [5], [5, 6])
    ]
    assert said == ["no organisers", "1 organiser", "2 organisers"]


async def test_a_stop_does_not_wait_out_telegrams_flood_control(chat):
    """D11: Telegram answers a reply with 429 and ten minutes to wait. A stop does not wait
    them out: the reply gives up, nothing more is sent, and the bot stops."""
    chat.api.fail(Fault(429, retry_after=600), when=lambda call: call.method == "sendMessage")
    await chat.app.start()
    await chat.app.update_queue.put(chat.updates.message(1, "/start"))
    await until(lambda: chat.app.bot.rate_limiter.plan.paused_until > 0, "the flood control")
    await asyncio.wait_for(chat.app.stop(), GIVE_UP_SECONDS)
    assert [call.result for call in chat.api.sent(1)] == [None]  # only the refused one
