"""Reading updates from Telegram without letting one bad update stop the bot (X9).

python-telegram-bot reads a whole `getUpdates` batch at once: one update it cannot parse (a poll
without `persistent_id`, as an older local Bot API server sends) fails the batch, the same batch
is fetched again for ever, nobody is answered, and the library logs the raw batch (what
supporters typed) at CRITICAL each time. Here each update of the answer is checked on its own at
the network edge; one the library cannot read is replaced by its bare id, which handlers ignore
and which moves the offset on, so Telegram counts it as confirmed. Only its id is logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.app.request import AiohttpRequest

logger = logging.getLogger(__name__)
# The answers python-telegram-bot reads as InvalidToken.
TOKEN_REFUSED = frozenset({HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND})


def readable(data: Any) -> dict[str, Any] | None:
    """One update's JSON, as Telegram sent it if python-telegram-bot can read it, else only its
    id (`{"update_id": ...}`); None if it has no id at all."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int):
        logger.warning("Skipped an update without an id")
        return None
    try:
        Update.de_json(data, None)
    except Exception as error:  # whatever failed, the content is never shown
        logger.warning(
            "Skipped update %s: it could not be read (%s)", update_id, type(error).__name__
        )
        return {"update_id": update_id}
    return data


class ReadableUpdates(BaseRequest):
    """The connection `getUpdates` goes through, handing on only updates the library can read.

    Wraps `inner` (by default one connection, with python-telegram-bot's default timeouts, as
    it makes for polling). Sets `refused` when Telegram no longer takes the bot's token (401,
    or 404 as for a token it never knew): python-telegram-bot then stops polling for good.
    """

    def __init__(self, inner: BaseRequest | None = None, *, refused: asyncio.Event) -> None:
        self.inner = inner or AiohttpRequest(1)
        self.refused = refused

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **timeouts: Any
    ) -> tuple[int, bytes]:
        status, body = await self.inner.do_request(url, method, request_data, **timeouts)
        if status in TOKEN_REFUSED:
            self.refused.set()
        if status != 200 or not url.endswith("/getUpdates"):
            return status, body
        answer = json.loads(body)
        kept = [update for raw in answer.get("result", []) if (update := readable(raw))]
        return status, json.dumps({**answer, "result": kept}).encode()
