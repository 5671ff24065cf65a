"""Outside services the journeys rely on: postcodes.io and the UK Parliament Members API (the MP
journey) and the petition's JSON (live signature counts).

Every request to them goes through `WatchedTransport`, which counts consecutive failures per
service in SQLite (so an outage outlives a restart). FAILURES_FOR_OUTAGE in a row make an
outage; `news` then reports it to organisers once, and once more when the service answers
again, as hashtag tracking does with its problems. A single timeout is not news. Log lines name
the service and the kind of failure, never the URL: a postcode is part of postcodes.io's paths.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import httpx

from bot.config import Settings
from bot.petition import PETITIONS_HOST
from bot.storage import Storage

logger = logging.getLogger(__name__)

POSTCODES, MEMBERS, PETITION = "postcodes", "members", "petition"
FAILURES_FOR_OUTAGE = 3
DOWN, BACK = "down", "back"


def services_by_host(settings: Settings) -> dict[str, str]:
    """Which watched service each host is, from the settings' API addresses."""
    return {
        str(settings.postcodes_api_url.host): POSTCODES,
        str(settings.members_api_url.host): MEMBERS,
        PETITIONS_HOST: PETITION,
    }


def failure(response: httpx.Response) -> str | None:
    """What went wrong, for an answer that says the service is in trouble (5xx, 429); None for
    any other answer, a 404 included (an unknown postcode is the service working)."""
    if response.status_code >= 500 or response.status_code == 429:
        return f"HTTP {response.status_code}"
    return None


def record(storage: Storage, service: str, host: str, problem: str | None) -> None:
    """Note one request's outcome: `problem` (one short phrase, no URL) or None for success.
    The log names the host, never the path (it may hold a postcode)."""
    if problem is None:
        if storage.note_service_success(service) >= FAILURES_FOR_OUTAGE:
            logger.info("%s answers again", host)
        return
    failures = storage.note_service_failure(service, problem)
    if failures == FAILURES_FOR_OUTAGE:
        logger.warning(
            "%s is failing (%d requests in a row, the last: %s); organisers will be told",
            host,
            failures,
            problem,
        )
    else:
        logger.info("%s request failed: %s", host, problem)


class WatchedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that records how each request to a watched service went."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, services: dict[str, str], storage: Storage
    ) -> None:
        self.inner = inner
        self.services = services
        self.storage = storage

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        service = self.services.get(host)
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TransportError as error:  # no answer at all: refused, timed out...
            if service:
                record(self.storage, service, host, type(error).__name__)
            raise
        if service:
            record(self.storage, service, host, failure(response))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass(frozen=True)
class OutageNews:
    """An outage to tell organisers about: it started (DOWN) or it is over (BACK)."""

    service: str
    kind: str
    detail: str  # the last failure, e.g. "HTTP 503" or "ConnectTimeout"
    since: dt.datetime
    until: dt.datetime | None = None


def news(storage: Storage) -> list[OutageNews]:
    """Outages not yet reported, and reported ones now over; each is returned once (the caller
    tells organisers)."""
    found = []
    for row in storage.outages_to_report(FAILURES_FOR_OUTAGE):
        since = dt.datetime.fromisoformat(row["since"])
        if row["recovered_at"]:
            until = dt.datetime.fromisoformat(row["recovered_at"])
            found.append(OutageNews(row["service"], BACK, row["detail"], since, until))
            storage.close_outage(row["service"])
        else:
            found.append(OutageNews(row["service"], DOWN, row["detail"], since))
            storage.mark_outage_reported(row["service"])
    return found
