"""Fakes shared by several test modules, so no test module imports another.

Each fakes one edge only: X's HTTP API as tweepy reaches it through aiohttp (answered by
aioresponses in the API's documented shapes), the Bot API keeping uploaded files, and the context
a JobQueue callback receives.
"""

from __future__ import annotations

import datetime as dt
import json
from http import HTTPStatus
from types import SimpleNamespace

import aiohttp
from aioresponses import CallbackResult, aioresponses

from bot.app.offline import Call, OfflineBotAPI

# --- X API v2 ----------------------------------------------------------------------------------

X_TWEETS = "https://api.twitter.com/2/tweets"
X_CREDENTIALS = {
    "x_api_key": "key",
    "x_api_secret": "key-secret",
    "x_access_token": "token",
    "x_access_token_secret": "token-secret",
}
X_ERRORS = {
    401: {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    403: {
        "client_id": "123",
        "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys"
        " and tokens from a Twitter developer App that is attached to a Project.",
        "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
        "title": "Client Forbidden",
        "required_enrollment": "Appropriate Level of API Access",
        "reason": "client-not-enrolled",
        "type": "https://api.twitter.com/2/problems/client-forbidden",
    },
    429: {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank"},
    503: {"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank"},
}


class WireResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without the `stream_writer` aiohttp 3.14 requires."""

    def __init__(self, method, url, **kwargs) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


def x_answer(
    status: int, content: dict | bytes = b"", headers: dict | None = None
) -> CallbackResult:
    """One answer from api.twitter.com as it comes off the wire, reason phrase included:
    `content` is a JSON payload, or raw bytes (X's edge answers some errors with an empty or
    HTML body) typed by the Content-Type in `headers` (none: what aiohttp assumes without one)."""
    raw = isinstance(content, bytes)
    return CallbackResult(
        status=status,
        payload=None if raw else content,
        body=content if raw else "",
        content_type="application/octet-stream" if raw else "application/json",
        headers=headers,
        reason=HTTPStatus(status).phrase,
        response_class=WireResponse,
    )


def x_rate_limited(reset: dt.datetime) -> tuple[int, dict, dict]:
    headers = {
        "x-rate-limit-limit": "450",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int(reset.timestamp())),
    }
    return 429, X_ERRORS[429], headers


class XAccount:
    """The coalition's X account as tweepy reaches it: POST https://api.twitter.com/2/tweets."""

    def __init__(self, mocked: aioresponses) -> None:
        self.posts: list[str] = []
        self.failure: tuple[int, dict | bytes, dict] | None = None  # status, body, headers
        mocked.post(X_TWEETS, callback=self._create, repeat=True)

    def _create(self, url, **kwargs) -> CallbackResult:
        if self.failure:
            status, body, headers = self.failure
            return x_answer(status, body, headers)
        post = kwargs["json"]["text"]
        self.posts.append(post)
        post_id = str(1861000000000000000 + len(self.posts))
        body = {"data": {"id": post_id, "edit_history_tweet_ids": [post_id], "text": post}}
        return x_answer(201, body)


# --- Telegram ----------------------------------------------------------------------------------

CHANNEL_ID = -1001234567890


class FileKeepingAPI(OfflineBotAPI):
    """The offline Bot API, listing the photos and files the bot uploaded."""

    def unformatted(self) -> list[Call]:
        """Texts and captions sent without parse_mode HTML (a supporter would see the raw
        tags), and texts sent without link previews switched off (a card under the message)."""
        return [
            call
            for call in self.calls
            if call.method.startswith(("send", "edit"))
            and ("text" in call.params or "caption" in call.params)
            and (
                call.params.get("parse_mode") != "HTML"
                or ("text" in call.params and not _previews_off(call))
            )
        ]

    @property
    def files(self) -> list[tuple[str, str, bytes]]:
        """(method, filename, content) of each upload, oldest first; a file sent again by its
        file_id uploads nothing."""
        return [
            (call.method, filename, content)
            for call in self.calls
            for filename, content in call.files.values()
        ]


async def run_job(app, name: str) -> None:
    """Run a scheduled job now, as the JobQueue would, with its own data."""
    (job,) = app.job_queue.get_jobs_by_name(name)
    await job.run(app)


class JobContext:
    """What a JobQueue callback receives, for calling the job directly."""

    def __init__(self, app) -> None:
        self.bot_data = app.bot_data
        self.bot = app.bot
        self.application = app


class FakeClock:
    """A monotonic clock that moves only when a test moves it (`clock.now += seconds`)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _previews_off(call: Call) -> bool:
    options = call.params.get("link_preview_options") or {}
    if isinstance(options, str):
        options = json.loads(options)
    return options.get("is_disabled") is True
