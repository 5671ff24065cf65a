"""Organisers hear once when an outside service the journeys rely on goes down, and once when it
is back: the MP journey against a failing postcodes.io, then the job that tells them."""

from __future__ import annotations

import httpx

from bot import outages
from messages import keyboards
from messages.mp import FIND
from scheduler.outages import OUTAGES_JOB
from tests.support.fakes import run_job
from tests.support.harness import ORGANISER_ID, running_bot
from tests.support.parliament import FlakyService


async def find_mp(chat, uid: int) -> str:
    """A supporter opens the MP journey and gives a postcode; returns the bot's answer."""
    await chat.send(uid, "/start")
    await chat.press(uid, keyboards.OPTIN_NO)
    await chat.press(uid, keyboards.journey_data("mp"))
    await chat.press(uid, FIND)
    return (await chat.send(uid, "SW1A 1AA"))[-1].text


async def test_organisers_hear_once_when_postcodes_io_is_down_and_once_when_it_is_back(settings):
    service = FlakyService()
    lookups = httpx.MockTransport(service)
    async with running_bot(settings, lookups=lookups) as chat:
        service.down = "503"
        for uid in range(1, outages.FAILURES_FOR_OUTAGE + 2):
            assert "can't reach the MP lookup service" in await find_mp(chat, uid)
        await run_job(chat.app, OUTAGES_JOB)
        await run_job(chat.app, OUTAGES_JOB)
        [alert] = chat.texts(ORGANISER_ID)
        assert "postcodes.io" in alert and "is not answering" in alert and "HTTP 503" in alert
        service.down = None
        assert "find that postcode" in await find_mp(chat, 10)  # postcodes.io answers again
        await run_job(chat.app, OUTAGES_JOB)
        await run_job(chat.app, OUTAGES_JOB)
        assert len(chat.texts(ORGANISER_ID)) == 2
        assert "is answering again" in chat.last_text(ORGANISER_ID)
