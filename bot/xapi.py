"""The X API v2 as tweepy reaches it: the aiohttp session every request goes through.

X, and the proxies in front of it, answer some errors with an empty or HTML body (a 429 from
the edge, a 503 page). tweepy parses the body of every error before it looks at the status, so
such an answer surfaced as a content-type error and a rate limit looked like a network fault.
In this session every error status raises `aiohttp.ClientResponseError` carrying the status and
headers before anyone reads the body; callers decide from those alone.
"""

from __future__ import annotations

import datetime as dt

import aiohttp
from multidict import CIMultiDictProxy

RATE_LIMIT_RESET = "x-rate-limit-reset"  # Unix time in seconds when the window resets


def x_session(timeout_seconds: float) -> aiohttp.ClientSession:
    """A session for `tweepy.asynchronous.AsyncClient.session`; each request gives up after
    `timeout_seconds` (TimeoutError) and an error status raises ClientResponseError."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout_seconds), raise_for_status=True
    )


def rate_limit_reset(headers: CIMultiDictProxy[str] | None) -> dt.datetime | None:
    """When X's rate-limit window resets, from a 429's headers; None without a usable header."""
    value = (headers or {}).get(RATE_LIMIT_RESET, "")
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None
