"""The bot introduces itself in each supporter's language before they press Start: its name,
description and short description come from the campaign file and are set at start-up, only
where Telegram has something else (renaming is limited to a few times a day)."""

from __future__ import annotations

import asyncio
import logging

from bot.app.offline import Fault, OfflineBotAPI
from tests.support.harness import running_bot

PROFILE_SETTERS = {"setMyName", "setMyDescription", "setMyShortDescription"}


def setters(api: OfflineBotAPI) -> list[str]:
    return [call.method for call in api.calls if call.method in PROFILE_SETTERS]


async def test_name_and_descriptions_are_set_per_language_from_the_campaign_file(
    settings, api, campaign
):
    profile = campaign.bot_profile
    async with running_bot(settings, api):
        pass
    texts = api.profile.texts
    assert texts[("name", "")] == profile.name("en")  # English for every other language
    assert texts[("description", "pt")] == profile.description("pt")
    assert texts[("short_description", "es")] == profile.short_description("es")
    assert "Nunca preguntamos" in texts[("description", "es")]


async def test_a_profile_telegram_already_has_is_not_set_again(settings, api):
    async with running_bot(settings, api):
        pass
    assert len(setters(api)) == 9  # three texts in three languages, the first time
    api.clear()
    async with running_bot(settings, api):
        pass
    assert setters(api) == []
    assert {call.method for call in api.calls} >= {"getMyName", "getMyDescription"}


async def test_a_renaming_limit_is_logged_and_does_not_hold_up_the_start(settings, api, caplog):
    a_day = 86_400
    api.fail(Fault(429, retry_after=a_day), when=lambda call: call.method == "setMyName", times=3)
    async with asyncio.timeout(10), running_bot(settings, api) as chat:  # not a day
        replies = await chat.send(1, "/start")
    assert "Welcome" in replies[0].text
    assert ("name", "pt") not in api.profile.texts
    assert ("description", "pt") in api.profile.texts  # the other texts were still set
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("limits changes to the bot's name" in line for line in warnings)
