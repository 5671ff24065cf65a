from __future__ import annotations

import logging

from bot.app import logs
from bot.app.cli import secrets_of
from messages import keyboards, solidarity
from tests.support.harness import make_settings, running_bot

TOKEN = "987654321:AAH-secret-token-do-not-log"
TYPED = "MyPrivateWordsXyzzy"


async def test_a_full_journey_at_debug_level_logs_neither_token_nor_typed_text(tmp_path, capsys):
    settings = make_settings(tmp_path, telegram_bot_token=TOKEN, log_level="DEBUG")
    logs.configure(settings.log_level, secrets_of(settings))
    try:
        async with running_bot(settings) as chat:
            chat.app.bot_data.journeys["boom"] = explode
            await chat.send(1, "/start")
            await chat.press(1, keyboards.OPTIN_YES)
            await chat.send(1, TYPED)
            await chat.send(1, f"/start {TYPED}")
            # The solidarity preview shows the supporter's own words back to them.
            await chat.press(1, solidarity.WRITE)
            await chat.send(1, f"Solidarity from me: {TYPED}")
            await chat.press(1, solidarity.ANONYMOUS)
            assert any(TYPED in text for text in chat.texts(1))
            await chat.send(1, "/start boom")
            logging.getLogger("stepup").debug("token in a message: %s", TOKEN)
        captured = capsys.readouterr().err
    finally:
        logging.getLogger().handlers.clear()
    assert "Error while handling update" in captured  # the failure was logged, with its traceback
    assert "Traceback" in captured
    assert TOKEN not in captured
    assert TYPED not in captured


async def explode(update, context):
    raise RuntimeError("a bug")


def test_secrets_are_redacted_even_in_tracebacks():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", (TOKEN,), None)
    try:
        raise ValueError(f"url https://api.telegram.org/bot{TOKEN}/getMe")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    logs.RedactSecrets([TOKEN]).filter(record)
    assert TOKEN not in record.getMessage()
    assert TOKEN not in record.exc_text
