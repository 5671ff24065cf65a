"""X9: an update python-telegram-bot cannot read is skipped and confirmed, the bot keeps
answering everyone else, and the log holds the update's id, never what it said."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import signal

import handlers
from bot.app import cli
from bot.app.build import build_application
from bot.app.offline import OfflineBotAPI, UpdateFactory
from bot.app.updates import readable
from tests.support.harness import make_settings

CANARY = "MyAddressIs42CanaryLane"
SUPPORTER = 818_001


def poll_message(updates, update_id: int) -> dict:
    """A poll as an older local Bot API server sends it: options without `persistent_id`."""
    message = updates.message_json(SUPPORTER, "") | {
        "poll": {
            "id": "p1",
            "question": f"Where do I live? {CANARY}",
            "options": [{"text": CANARY, "voter_count": 0}],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
        }
    }
    del message["text"]
    return {"update_id": update_id, "message": message}


def start_from(updates, user_id: int, update_id: int) -> dict:
    return {"update_id": update_id, "message": updates.message_json(user_id, "/start")}


async def test_x9_a_bad_update_is_skipped_and_confirmed_and_the_bot_keeps_answering(chat, caplog):
    caplog.set_level(logging.DEBUG)
    updates = chat.updates
    chat.api.inbox = [poll_message(updates, 9_000_001), start_from(updates, 1, 9_000_002)]
    await chat.app.start()
    await chat.app.updater.start_polling(poll_interval=0, allowed_updates=handlers.ALLOWED_UPDATES)
    try:
        assert await chat.answered(1)
        # A bad update alone in a batch, then a good one: the offset still moves on.
        chat.api.inbox.append(poll_message(updates, 9_000_003))
        chat.api.inbox.append(start_from(updates, 2, 9_000_004))
        assert await chat.answered(2)
    finally:
        await chat.app.updater.stop()
        await chat.app.stop()
    assert chat.api.inbox == []  # every update confirmed, the bad ones too
    assert CANARY not in caplog.text
    assert "Skipped update 9000001" in caplog.text and "Skipped update 9000003" in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_an_update_without_an_id_is_dropped():
    assert readable({"message": {"text": CANARY}}) is None


async def serve_until_polled(app, api: OfflineBotAPI, settings, until) -> None:
    """`stepup-bot run`'s serving loop until `until()` holds after a poll, then SIGTERM."""
    serving = asyncio.create_task(cli.serve(app, settings))
    for _ in range(500):
        if (api.last_poll and until()) or serving.done():
            break
        await asyncio.sleep(0.02)
    os.kill(os.getpid(), signal.SIGTERM)  # as `kill` would stop the bot
    assert await serving == "SIGTERM"


async def test_polling_asks_telegram_only_for_the_updates_the_bot_handles(settings):
    api = OfflineBotAPI()
    app = build_application(settings, request=api)
    await serve_until_polled(app, api, settings, lambda: True)
    asked = api.last_poll["allowed_updates"]
    assert (json.loads(asked) if isinstance(asked, str) else asked) == handlers.ALLOWED_UPDATES


async def test_what_people_sent_while_the_bot_was_stopped_is_answered_at_start(settings):
    api = OfflineBotAPI()
    app = build_application(settings, request=api)
    api.inbox.append(start_from(UpdateFactory(app.bot), SUPPORTER, 1))
    await serve_until_polled(app, api, settings, lambda: bool(api.sent(SUPPORTER)))
    assert "Welcome" in api.sent(SUPPORTER)[0].text


async def test_while_serving_a_full_collection_walks_nothing_loaded_at_start(tmp_path):
    # A bot tracking Bluesky loads atproto and its thousands of models: a full garbage
    # collection over them held the event loop 40-90 ms, whenever it came.
    from atproto import AsyncClient as BlueskyClient

    settings = make_settings(
        tmp_path, bluesky_handle="stepup.bsky.social", bluesky_app_password="app-pass-word"
    )
    api = OfflineBotAPI()
    app = build_application(settings, request=api)
    walked = []

    def collected() -> bool:
        walked.append(any(obj is BlueskyClient for obj in gc.get_objects()))
        return True

    await serve_until_polled(app, api, settings, collected)
    assert walked and not any(walked)
    assert any(obj is BlueskyClient for obj in gc.get_objects())  # stopped: collected again
