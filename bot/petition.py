"""Live signature counts for a UK Parliament petition, from its public JSON.

Any other petition site works too, just without counts. Counts are cached in memory so each
petition is fetched at most once a minute however many supporters open the journey, and a
failed refresh keeps showing the last good figures. A refresh gets LOOKUP_SECONDS, as the MP
lookup does: a site that does not answer leaves the journey without fresh figures, never stuck.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.mps import LOOKUP_SECONDS

logger = logging.getLogger(__name__)

PETITIONS_HOST = "petition.parliament.uk"
REFRESH_SECONDS = 60.0
_PETITION_PATH = re.compile(r"/petitions/([0-9]{1,9})(?:\.json)?/?")


@dataclass(frozen=True)
class PetitionCounts:
    total: int
    by_constituency: dict[str, int]  # keyed by ONS (GSS) constituency code


def parliament_petition_id(url: str) -> int | None:
    """N for https://petition.parliament.uk/petitions/N (with /, .json or a query), else None."""
    parts = urlsplit(str(url).strip())
    if parts.scheme not in ("http", "https") or (parts.hostname or "") != PETITIONS_HOST:
        return None
    match = _PETITION_PATH.fullmatch(parts.path)
    return int(match.group(1)) if match else None


def _parse(data: Any) -> PetitionCounts:
    attributes = data["data"]["attributes"]
    by_constituency = {
        entry["ons_code"]: int(entry["signature_count"])
        for entry in attributes.get("signatures_by_constituency") or []
    }
    return PetitionCounts(total=int(attributes["signature_count"]), by_constituency=by_constituency)


@dataclass
class _Entry:
    checked_at: float
    counts: PetitionCounts | None


class PetitionCounter:
    """Signature counts per petition, refreshed at most every `refresh_seconds`; a refresh
    (and so anyone waiting for it) takes at most `lookup_seconds`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        lookup_seconds: float = LOOKUP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._refresh_seconds = refresh_seconds
        self._lookup_seconds = lookup_seconds
        self._clock = clock
        self._entries: dict[int, _Entry] = {}
        # One refresh at a time, so a crowd arriving together costs a single request.
        self._lock = asyncio.Lock()

    def will_fetch(self, petition_url: str) -> bool:
        """Whether `counts` has to ask the petitions site (up to `lookup_seconds`) rather than
        answer from the cache: the moment to show the supporter the bot is on it."""
        petition_id = parliament_petition_id(petition_url)
        return petition_id is not None and self._stale(self._entries.get(petition_id))

    async def counts(self, petition_url: str) -> PetitionCounts | None:
        """The petition's counts; None for other petition sites or when never fetched yet.
        Source: petition.parliament.uk's public JSON."""
        petition_id = parliament_petition_id(petition_url)
        if petition_id is None:
            return None
        async with self._lock:
            entry = self._entries.get(petition_id)
            if self._stale(entry):
                fetched = await self._fetch(petition_id)
                entry = _Entry(self._clock(), fetched or (entry.counts if entry else None))
                self._entries[petition_id] = entry
            return entry.counts

    def _stale(self, entry: _Entry | None) -> bool:
        return entry is None or self._clock() - entry.checked_at >= self._refresh_seconds

    async def _fetch(self, petition_id: int) -> PetitionCounts | None:
        url = f"https://{PETITIONS_HOST}/petitions/{petition_id}.json"
        try:
            async with asyncio.timeout(self._lookup_seconds):
                response = await self._http.get(url)
            response.raise_for_status()
            return _parse(response.json())
        except TimeoutError:
            logger.warning(
                "Petition %s counts: no answer within %.0f s", petition_id, self._lookup_seconds
            )
            return None
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as error:
            logger.warning(
                "Petition %s counts unavailable: %s: %s", petition_id, type(error).__name__, error
            )
            return None
