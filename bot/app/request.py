"""The connection to Telegram's Bot API: python-telegram-bot's `BaseRequest` on aiohttp.

python-telegram-bot sends through httpx by default. At a paid broadcast's 1,000 messages a
second that costs most of a core: httpcore scans every pooled connection, through anyio, for
each request (about 1.4 ms of CPU a message, profiled in bench/bench_delivery.py), so one
process tops out near 600 a second. aiohttp, installed anyway for tweepy, parses HTTP in C and
keeps a plain pool of keep-alive connections; see bench/README.md for the figures.

Failures become the exceptions python-telegram-bot's own httpx request raises, so everything
above (the rate limiter, the delivery engine) reads them the same: a timeout is `TimedOut`,
anything else on the way `NetworkError`, each with the aiohttp error as its `__cause__` (which
bot.delivery reads to know whether a send can have reached Telegram).
"""

from __future__ import annotations

import math
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# python-telegram-bot's HTTPXRequest defaults, in seconds; uploads get longer to write.
READ_TIMEOUT = WRITE_TIMEOUT = CONNECT_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0
# Telegram answers a server in 30-150 ms; a paid broadcast keeps its 1,000 a second through
# answers this slow (250 connections), where a pool sized for 100 ms capped it at 667 a second
# once answers took 150 ms.
SLOWEST_ANSWER_SECONDS = 0.25
_JSON = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    """Requests to the Bot API over at most `connection_pool_size` keep-alive connections.

    Timeouts are in seconds, as for python-telegram-bot's HTTPXRequest: `read_timeout` for each
    read of the answer, `connect_timeout` to open a connection, `pool_timeout` to wait for a
    free one. aiohttp has no write timeout of its own; the write is bounded, with the read, by
    the request's total (write timeout plus read timeout). The session is opened by
    `initialize` and closed by `shutdown`, as python-telegram-bot does with its own.
    """

    def __init__(
        self,
        connection_pool_size: int = 8,
        *,
        read_timeout: float | None = READ_TIMEOUT,
        write_timeout: float | None = WRITE_TIMEOUT,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self.connection_pool_size = connection_pool_size
        self._timeouts = {
            "read_timeout": read_timeout,
            "write_timeout": write_timeout,
            "connect_timeout": connect_timeout,
            "pool_timeout": pool_timeout,
        }
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read_timeout"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connection_pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; returns the answer's status and body. Raises `TimedOut` or
        `NetworkError` (from the aiohttp error) when no answer came, RuntimeError before
        `initialize`."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        given = {
            "read_timeout": read_timeout,
            "write_timeout": write_timeout,
            "connect_timeout": connect_timeout,
            "pool_timeout": pool_timeout,
        }
        timeouts = {
            name: self._timeouts[name] if value is BaseRequest.DEFAULT_NONE else value
            for name, value in given.items()
        }
        if files and write_timeout is BaseRequest.DEFAULT_NONE:
            timeouts["write_timeout"] = MEDIA_WRITE_TIMEOUT
        try:
            async with self._session.request(
                method,
                url,
                data=_body(request_data, files),
                headers=None if files or request_data is None else _JSON,
                timeout=_client_timeout(**timeouts),
                allow_redirects=False,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts are TimeoutErrors
            raise TimedOut(f"aiohttp.{type(error).__name__}: {error}") from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _client_timeout(
    read_timeout: float | None,
    write_timeout: float | None,
    connect_timeout: float | None,
    pool_timeout: float | None,
) -> aiohttp.ClientTimeout:
    """python-telegram-bot's four timeouts as aiohttp's: `connect` bounds waiting for a pooled
    connection and opening a new one together, `sock_connect` the opening alone."""

    def total(*parts: float | None) -> float | None:
        return None if any(part is None for part in parts) else math.fsum(parts)

    return aiohttp.ClientTimeout(
        total=total(write_timeout, read_timeout, connect_timeout, pool_timeout),
        connect=total(pool_timeout, connect_timeout),
        sock_connect=connect_timeout,
        sock_read=read_timeout,
    )


def _body(
    request_data: RequestData | None, files: dict[str, tuple[str, Any, str]] | None
) -> bytes | aiohttp.FormData | None:
    """The parameters as one JSON object (cheaper to build than a form, and read the same by the
    Bot API); with files, a multipart form of the JSON-encoded values and the files."""
    if request_data is None:
        return None
    if not files:
        return request_data.json_payload
    form = aiohttp.FormData(request_data.json_parameters)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def telegram_request(rate: float) -> AiohttpRequest:
    """Connections for SLOWEST_ANSWER_SECONDS of sends at `rate` (messages a second): each
    carries one request at a time, so `rate` needs rate × answer time of them busy at once; a
    request waits up to 5 s for one to be free."""
    return AiohttpRequest(max(8, math.ceil(rate * SLOWEST_ANSWER_SECONDS)), pool_timeout=5.0)
