"""Fairness (X6) and the kind error path: one supporter flooding cannot starve the others, and a
bug never shows a traceback to a person (the token bucket itself: tests/bot/test_flood.py); an
update Telegram gives again after a restart is handled once."""

from __future__ import annotations

from telegram import Update

from messages import consent, solidarity
from tests.support.harness import make_settings, running_bot


async def test_a_flooding_supporter_is_paused_and_warned_once_while_others_are_served(tmp_path):
    settings = make_settings(tmp_path, user_updates_per_minute=5)
    async with running_bot(settings) as chat:
        for _ in range(30):
            await chat.send(1, "/menu")
        flooder = chat.texts(1)
        assert len(flooder) == 6  # five answered, one warning, the rest dropped unread
        assert sum("very fast" in text for text in flooder) == 1
        replies = await chat.send(2, "/start")
        assert "Welcome" in replies[0].text


async def test_a_bug_gets_a_kind_answer_in_the_supporters_language(chat):
    async def broken(update, context):
        raise KeyError("bug")

    chat.app.bot_data.journeys["broken"] = broken
    await chat.send(1, "/start", language_code="pt")
    await chat.press(1, consent.OPTIN_NONE, language_code="pt")
    replies = await chat.send(1, "/start broken", language_code="pt")
    assert "Desculpe, algo deu errado" in replies[-1].text
    assert "KeyError" not in replies[-1].text


async def test_a_blocked_supporter_who_writes_again_is_unblocked(chat):
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_DAILY)
    chat.storage.mark_blocked(1)
    assert chat.storage.get_supporter(1)["blocked_at"]
    await chat.send(1, "/menu")
    assert chat.storage.get_supporter(1)["blocked_at"] is None


async def test_an_update_given_again_after_a_restart_is_handled_once(settings, api):
    """The bot died after handling a message, before the getUpdates confirming it reached
    Telegram: the next start is given it again. The message is not taken twice, here as the
    signature after being the solidarity message."""
    async with running_bot(settings, api) as chat:
        chat.storage.ensure_supporter(1, "en")
        await chat.press(1, solidarity.WRITE)
        typed = chat.updates.message(1, "We stand with you.")
        await chat.app.process_update(typed)
        asked = chat.texts(1)[-1]
    async with running_bot(settings, api) as chat:
        again = Update.de_json(typed.to_dict(), chat.app.bot)
        await chat.app.process_update(again)
        assert chat.texts(1)[-1] == asked  # nothing said, nothing taken
        await chat.send(1, "Maria")
        assert "We stand with you." in chat.last_text(1) and "Maria" in chat.last_text(1)
        assert chat.storage.load_json_rows("user_data", "user_id")[1]["solidarity_draft"] == {
            "body": "We stand with you.",
            "signature": "Maria",
        }


async def test_an_update_given_twice_in_one_run_is_handled_once(chat):
    """A webhook delivery Telegram retries (its answer was lost) comes again while the bot runs."""
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_NONE)
    await chat.press(1, solidarity.WRITE)
    typed = chat.updates.message(1, "We stand with you.")
    await chat.app.process_update(typed)
    asked = chat.texts(1)[-1]
    await chat.app.process_update(Update.de_json(typed.to_dict(), chat.app.bot))
    assert chat.texts(1)[-1] == asked


async def test_an_update_handled_long_before_is_still_handled_once(settings, api, monkeypatch):
    """Past the ids kept in memory, the database still knows an update was handled."""
    monkeypatch.setattr("bot.app.persistence.RECENTLY_HANDLED", 3)
    async with running_bot(settings, api) as chat:
        await chat.send(1, "/start")
        first = chat.updates.message(1, "/help")
        await chat.app.process_update(first)
        for _ in range(5):
            await chat.send(1, "/help")
        answers = len(chat.texts(1))
        await chat.app.process_update(Update.de_json(first.to_dict(), chat.app.bot))
        assert len(chat.texts(1)) == answers


async def test_updates_numbered_afresh_by_telegram_are_handled(settings, api):
    """After a week without updates Telegram numbers them from a random point, perhaps below
    the ids handled before: those are new, and answered."""
    async with running_bot(settings, api) as chat:
        await chat.send(1, "/start")
        for _ in range(3):
            await chat.send(1, "/help")
    async with running_bot(settings, api) as chat:
        low = chat.updates.message(1, "/help").to_dict() | {"update_id": 1}
        answers = len(chat.texts(1))
        await chat.app.process_update(Update.de_json(low, chat.app.bot))
        assert len(chat.texts(1)) == answers + 1
