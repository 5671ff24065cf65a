"""Petition counts: petition.parliament.uk's public JSON faked at the HTTP edge, in its real
shape (GET /petitions/N.json)."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from bot.petition import PetitionCounter, PetitionCounts, parliament_petition_id
from tests.support.fakes import FakeClock
from tests.support.parliament import never_answers
from tests.support.petitions import PETITION, FakePetitions, petition_json


@pytest.fixture
def ticks() -> FakeClock:
    """The counter's monotonic clock, moved by hand (not the wall clock of `clock`)."""
    return FakeClock()


def counter(petitions: FakePetitions, ticks: FakeClock) -> PetitionCounter:
    http = httpx.AsyncClient(transport=httpx.MockTransport(petitions))
    return PetitionCounter(http, clock=ticks)


@pytest.mark.parametrize(
    ("url", "petition_id"),
    [
        ("https://petition.parliament.uk/petitions/700001", 700001),
        ("https://petition.parliament.uk/petitions/700001/", 700001),
        ("https://petition.parliament.uk/petitions/700001.json", 700001),
        ("https://petition.parliament.uk/petitions/700001?reveal_response=yes", 700001),
        ("http://petition.parliament.uk/petitions/42", 42),
        ("https://stepupmigrantwomen.org", None),
        ("https://www.change.org/p/700001", None),
        ("https://petition.parliament.uk/petitions", None),
        ("https://petition.parliament.uk/petitions/abc", None),
        ("https://petition.parliament.uk.evil.example/petitions/1", None),
        ("ftp://petition.parliament.uk/petitions/1", None),
        ("not a url", None),
    ],
)
def test_only_uk_parliament_petitions_have_an_id(url, petition_id):
    assert parliament_petition_id(url) == petition_id


async def test_counts_total_and_by_constituency(ticks):
    petitions = FakePetitions(
        petition_json(
            1234,
            {"E14001172": ("Cities of London and Westminster", 57), "S14000021": ("Glasgow", 3)},
        )
    )
    counts = await counter(petitions, ticks).counts(PETITION)
    assert counts == PetitionCounts(total=1234, by_constituency={"E14001172": 57, "S14000021": 3})
    assert str(petitions.requests[0].url) == f"{PETITION}.json"


async def test_counts_are_fetched_at_most_once_a_minute(ticks):
    petitions = FakePetitions(petition_json(10, {}), petition_json(25, {}))
    counts = counter(petitions, ticks)
    assert (await counts.counts(PETITION)).total == 10
    ticks.now += 59
    assert (await counts.counts(PETITION + "/")).total == 10
    assert len(petitions.requests) == 1
    ticks.now += 1
    assert (await counts.counts(PETITION)).total == 25
    assert len(petitions.requests) == 2


async def test_other_petition_sites_get_no_counts_and_no_request(ticks):
    petitions = FakePetitions(petition_json(10, {}))
    assert await counter(petitions, ticks).counts("https://stepupmigrantwomen.org") is None
    assert petitions.requests == []


@pytest.mark.parametrize(
    "failure",
    [
        500,
        404,
        429,
        b"<html>busy</html>",
        {"data": {"attributes": {}}},
        {"data": ["a", "list"]},
        httpx.ReadTimeout,
        httpx.RemoteProtocolError,
    ],
    ids=["500", "404", "429", "not-json", "unexpected-shape", "wrong-type", "hang", "dropped"],
)
async def test_failed_refresh_keeps_the_last_good_counts(ticks, failure, caplog):
    petitions = FakePetitions(petition_json(10, {"E14001172": ("Westminster", 4)}), failure)
    counts = counter(petitions, ticks)
    good = await counts.counts(PETITION)
    ticks.now += 61
    with caplog.at_level(logging.WARNING, logger="bot.petition"):
        assert await counts.counts(PETITION) == good
    assert [record.exc_info for record in caplog.records] == [None]  # a line, no traceback
    assert len(petitions.requests) == 2


async def test_failure_before_any_success_gives_none_and_waits_a_minute(ticks):
    calls: list[httpx.Request] = []

    def timeout(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectTimeout("timed out", request=request)

    counts = PetitionCounter(httpx.AsyncClient(transport=httpx.MockTransport(timeout)), clock=ticks)
    assert await counts.counts(PETITION) is None
    assert await counts.counts(PETITION) is None
    assert len(calls) == 1


async def test_a_site_that_never_answers_costs_one_bounded_wait_and_keeps_the_last_figures(
    ticks, caplog
):
    """Everyone waiting for the refresh gets the last good figures once the lookup's time is up;
    the next minute is served from the cache without asking again."""
    answers = [petition_json(12, {})]

    async def answers_once(request: httpx.Request) -> httpx.Response:
        if answers:
            return httpx.Response(200, json=answers.pop())
        return await never_answers(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answers_once))
    counts = PetitionCounter(http, lookup_seconds=0.05, clock=ticks)
    good = await counts.counts(PETITION)
    ticks.now += 61

    assert counts.will_fetch(PETITION)
    with caplog.at_level(logging.WARNING, logger="bot.petition"):
        waiting = await asyncio.gather(*(counts.counts(PETITION) for _ in range(3)))

    assert waiting == [good] * 3
    assert "no answer within" in caplog.text
    assert not counts.will_fetch(PETITION)
