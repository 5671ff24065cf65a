"""The X API v2 as tweepy reaches it: the aiohttp session every request goes through.

X, and the proxies in front of it, answer some errors with an empty or HTML body (a 429 from
the edge, a 503 page). tweepy parses the body of every error before it looks at the status, so
such an answer surfaced as a content-type error and a rate limit looked like a network fault.
In this session every error status raises `XError`, carrying the status, the headers and, when
the body is X's JSON problem ({"title", "detail", "type", "status"}), its detail, before tweepy
reads anything; callers decide from those alone.

tweepy writes https://api.twitter.com into every request; a session for another address
(`X_API_URL`: a proxy, or a test's fake X) sends each request there instead.
"""

from __future__ import annotations

import datetime as dt
import json

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from bot.config import X_API_URL

RATE_LIMIT_RESET = "x-rate-limit-reset"  # Unix time in seconds when the window resets
# X refuses a post identical to one the account made recently with a 403 and this detail.
DUPLICATE_CONTENT = "duplicate content"
# An error body longer than this is a page, not X's problem JSON: it is not read further.
PROBLEM_BYTES = 4096


class XError(aiohttp.ClientResponseError):
    """An error status from X. `detail` is the problem's own words (at most 200 characters),
    or "" when the body was not X's JSON problem (empty, an HTML page, cut off)."""

    def __init__(self, response: aiohttp.ClientResponse, detail: str) -> None:
        super().__init__(
            response.request_info,
            response.history,
            status=response.status,
            message=response.reason or "",
            headers=response.headers,
        )
        self.detail = detail[:200]

    @property
    def duplicate(self) -> bool:
        """X refused a post because the account posted the same text recently."""
        return self.status == 403 and DUPLICATE_CONTENT in self.detail.lower()


async def _raise_for_status(response: aiohttp.ClientResponse) -> None:
    if response.ok:
        return
    body = await response.content.read(PROBLEM_BYTES)
    response.release()
    try:
        problem = json.loads(body)
    except ValueError:
        problem = None
    detail = problem.get("detail") if isinstance(problem, dict) else None
    raise XError(response, detail if isinstance(detail, str) else "")


def _sent_to(api_url: URL) -> aiohttp.ClientMiddlewareType:
    """A middleware sending each request to `api_url` instead of tweepy's api.twitter.com, below
    its path if it has one (a proxy at https://proxy.example/x gets /x/2/tweets)."""
    base = str(api_url).rstrip("/")

    async def redirect(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        # As tweepy encoded it: the query a signed request was signed with.
        request.url = URL(base + str(request.url.relative()), encoded=True)
        request.headers["Host"] = request.url.host_port_subcomponent or ""
        return await handler(request)

    return redirect


def x_session(timeout_seconds: float, api_url: str = X_API_URL) -> aiohttp.ClientSession:
    """A session for `tweepy.asynchronous.AsyncClient.session`: each request goes to `api_url`,
    gives up after `timeout_seconds` (TimeoutError), and an error status raises XError."""
    address = URL(api_url)
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        raise_for_status=_raise_for_status,
        middlewares=() if address == URL(X_API_URL) else (_sent_to(address),),
    )


def rate_limit_reset(headers: CIMultiDictProxy[str] | None) -> dt.datetime | None:
    """When X's rate-limit window resets, from a 429's headers; None without a usable header."""
    value = (headers or {}).get(RATE_LIMIT_RESET, "")
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None
