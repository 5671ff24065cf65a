"""Outside services failing: counted per service at the HTTP edge, logged without the URL (a
postcode is part of postcodes.io's paths), news of an outage once and of its end once."""

from __future__ import annotations

import contextlib
import logging

import httpx
import pytest

from bot import outages
from tests.support.harness import make_settings
from tests.support.parliament import FlakyService

POSTCODE_PATH = "/postcodes/SW1A1AA"


@pytest.fixture
def service():
    return FlakyService()


@pytest.fixture
def http(tmp_path, storage, service):
    settings = make_settings(tmp_path)
    watched = outages.WatchedTransport(
        httpx.MockTransport(service), outages.services_by_host(settings), storage
    )
    return httpx.AsyncClient(transport=watched)


async def lookup(http: httpx.AsyncClient) -> None:
    # The journey's own answer (WriteToThem) is tested with the MP journey.
    with contextlib.suppress(httpx.TransportError):
        await http.get(f"https://api.postcodes.io{POSTCODE_PATH}")


async def test_one_outage_is_news_once_and_its_end_once(http, service, storage):
    service.down = "503"
    for _ in range(outages.FAILURES_FOR_OUTAGE - 1):
        await lookup(http)
    assert outages.news(storage) == []  # a blip is not an outage
    service.down = "timeout"
    for _ in range(5):
        await lookup(http)
    [started] = outages.news(storage)
    assert (started.service, started.kind, started.detail) == ("postcodes", "down", "ReadTimeout")
    await lookup(http)
    assert outages.news(storage) == []  # still down: nothing new
    service.down = None
    await lookup(http)  # a 404 is postcodes.io working: that postcode is unknown
    await lookup(http)
    [ended] = outages.news(storage)
    assert (ended.kind, ended.since) == ("back", started.since)
    assert outages.news(storage) == []


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://api.postcodes.io/postcodes/SW1A1AA", outages.POSTCODES),
        ("https://members-api.parliament.uk/api/Location/Constituency/Search", outages.MEMBERS),
        ("https://petition.parliament.uk/petitions/700000.json", outages.PETITION),
    ],
)
async def test_each_outside_service_is_news_once_when_down_and_once_when_back(
    http, service, storage, url, name
):
    service.down = "503"
    for _ in range(outages.FAILURES_FOR_OUTAGE + 2):
        await http.get(url)
    [started] = outages.news(storage)
    assert (started.service, started.kind, started.detail) == (name, "down", "HTTP 503")
    service.down = None
    await http.get(url)
    await http.get(url)
    [ended] = outages.news(storage)
    assert (ended.service, ended.kind) == (name, "back")


async def test_a_blip_that_ends_before_an_outage_is_forgotten(http, service, storage):
    service.down = "503"
    await lookup(http)
    service.down = None
    await lookup(http)
    service.down = "503"
    for _ in range(outages.FAILURES_FOR_OUTAGE - 1):
        await lookup(http)
    assert outages.news(storage) == []


async def test_failures_are_logged_by_service_without_the_postcode(http, service, caplog):
    caplog.set_level(logging.INFO)
    service.down = "timeout"
    for _ in range(outages.FAILURES_FOR_OUTAGE):
        await lookup(http)
    service.down = None
    await lookup(http)
    ours = [record.getMessage() for record in caplog.records if record.name.startswith("bot")]
    assert any("api.postcodes.io is failing" in line and "ReadTimeout" in line for line in ours)
    assert "api.postcodes.io answers again" in ours
    assert not any("SW1A" in line or "1AA" in line for line in ours)


async def test_other_hosts_are_not_watched(http, service, storage):
    service.down = "503"
    for _ in range(outages.FAILURES_FOR_OUTAGE):
        await http.get("https://example.org/anything")
    assert outages.news(storage) == []
