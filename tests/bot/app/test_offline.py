"""X10: the offline Bot API refuses what Telegram refuses, so the suite meets Telegram's limits
before supporters do. Each test sends through the real python-telegram-bot `Bot`."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.app.offline import Fault, OfflineBotAPI, UpdateFactory

CHAT = 5150


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
async def bot(clock):
    api = OfflineBotAPI(clock)
    bot = ExtBot("123:offline", request=api, get_updates_request=api)
    async with bot:
        yield bot


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data=data)]])


async def send(bot, text: str, **kwargs):
    return await bot.send_message(CHAT, text, parse_mode=ParseMode.HTML, **kwargs)


async def test_x10_text_over_4096_characters_after_parsing_is_refused(bot):
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await send(bot, "a" * 4097)
    # Tags are free and a reference is one character: this is 4,096 characters to Telegram.
    await send(bot, "<b>" + "&amp;" * 4096 + "</b>")


async def test_x10_length_is_counted_in_utf16_units_like_telegram(bot):
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await send(bot, "💜" * 2049)
    await send(bot, "💜" * 2048)


async def test_x10_caption_over_1024_characters_is_refused(bot):
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(CHAT, b"\x89PNG", caption="c" * 1025, parse_mode=ParseMode.HTML)
    await bot.send_photo(CHAT, b"\x89PNG", caption="c" * 1024, parse_mode=ParseMode.HTML)


@pytest.mark.parametrize(
    "html", ["<div>no</div>", "<b>open", "<b><i>crossed</b></i>", "   ", "<b></b>"]
)
async def test_x10_html_telegram_cannot_parse_or_an_empty_text_is_refused(bot, html):
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities|message text is empty"):
        await send(bot, html)


async def test_x10_a_button_press_is_answered_once(bot):
    updates = UpdateFactory(bot, bot.request)
    query = updates.callback(CHAT, "menu").callback_query
    await query.answer()
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()


async def test_x10_a_press_older_than_15_seconds_cannot_be_answered(bot, clock):
    updates = UpdateFactory(bot, bot.request)
    late = updates.callback(CHAT, "menu", pressed_ago=16).callback_query
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await late.answer()
    slow = updates.callback(CHAT, "menu").callback_query
    clock.now += 14
    await slow.answer()


async def test_x10_a_press_telegram_never_delivered_cannot_be_answered(bot):
    crafted = UpdateFactory(bot).callback(CHAT, "menu").callback_query  # not known to the API
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await crafted.answer()


async def test_x10_editing_without_a_keyboard_removes_it(bot):
    api: OfflineBotAPI = bot.request
    message = await send(bot, "Choose", reply_markup=keyboard("a"))
    assert api.keyboards(CHAT) == [(message.message_id, [{"text": "Go", "callback_data": "a"}])]
    edited = await bot.edit_message_text("Done", CHAT, message.message_id)
    assert edited.reply_markup is None
    assert api.keyboards(CHAT) == []


async def test_x10_an_edit_that_changes_nothing_is_refused(bot):
    message = await send(bot, "Same", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "Same", CHAT, message.message_id, parse_mode=ParseMode.HTML, reply_markup=keyboard("a")
        )
    await bot.edit_message_text("Same", CHAT, message.message_id, parse_mode=ParseMode.HTML)


async def test_x10_a_photo_has_a_caption_to_edit_not_a_text(bot):
    photo = await bot.send_photo(CHAT, b"\x89PNG", caption="Day 1", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("Day 2", CHAT, photo.message_id, parse_mode=ParseMode.HTML)
    await bot.edit_message_caption(CHAT, photo.message_id, caption="Day 2")


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(500), NetworkError),
        (Fault(502), NetworkError),
        (Fault("timeout"), TimedOut),
        (Fault("network"), NetworkError),
    ],
)
async def test_x10_server_and_network_errors_on_demand(bot, fault, error):
    bot.request.fail(fault)
    with pytest.raises(error):
        await send(bot, "hello")
    await send(bot, "hello")  # only the one call failed


async def test_every_chat_type_and_updates_without_a_person_can_be_built(bot):
    updates = UpdateFactory(bot, bot.request)
    kinds = {
        kind: updates.message(CHAT, "/start", chat=kind)
        for kind in ("private", "group", "supergroup", "channel", "forum")
    }
    assert {kind: update.effective_chat.type for kind, update in kinds.items()} == {
        "private": "private",
        "group": "group",
        "supergroup": "supergroup",
        "channel": "channel",
        "forum": "supergroup",
    }
    assert kinds["forum"].effective_message.is_topic_message
    assert kinds["channel"].channel_post and kinds["channel"].effective_user is None
