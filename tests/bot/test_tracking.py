"""Hashtag tracking: what organisers see of X and Bluesky, and what the X bill never exceeds.

The network edge is faked with the services' documented response shapes: aioresponses answers
tweepy's aiohttp calls to api.twitter.com (X API v2 recent counts and recent search), and an
httpx.MockTransport answers atproto's XRPC calls (createSession, app.bsky.feed.searchPosts).
The clock is frozen with time-machine and moved by hand.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import threading
from collections import Counter
from urllib.parse import parse_qs

import aiohttp
import httpx
import pytest
from aioresponses import CallbackResult, aioresponses

from bot import tracking
from bot.config import Settings
from bot.storage import Storage
from messages import trends
from tests.support import social
from tests.support.fakes import X_ERRORS, x_answer, x_rate_limited
from tests.support.figures import hashtag_counts

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
X_COUNTS = re.compile(r"^https://api\.twitter\.com/2/tweets/counts/recent\?.*$")
X_SEARCH = re.compile(r"^https://api\.twitter\.com/2/tweets/search/recent\?.*$")
X_EPOCH_MS = 1288834974657


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def one_tag(campaign):
    """The campaign tracking #16Days only, to keep request counts easy to read."""
    return campaign.model_copy(update={"hashtags": ("16Days",), "tracked_hashtags": ()})


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"x_bearer_token": "test-bearer", "tracking_poll_minutes": 60}
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
async def x_source():
    source = tracking.XSource("test-bearer")
    yield source
    await source.aclose()


# --- a fake X API v2 ---------------------------------------------------------------------------


def answer(payload: dict, status: int = 200, headers: dict | None = None) -> CallbackResult:
    return x_answer(status, payload, headers)


class FakeX:
    """api.twitter.com as tweepy sees it: /2/tweets/counts/recent and /2/tweets/search/recent."""

    def __init__(self, mocked: aioresponses) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []  # (endpoint, query parameters)
        self.hourly: Counter[tuple[str, dt.datetime]] = Counter()  # (hashtag, hour) -> count
        self.tweets: dict[str, list[dict]] = {}  # hashtag -> tweets
        self.users: dict[str, dict] = {}
        self.failure: tuple[int, dict | bytes, dict] | None = None  # status, body, headers
        self.network_down = False
        self._sequence = 0
        mocked.get(X_COUNTS, callback=self._counts, repeat=True)
        mocked.get(X_SEARCH, callback=self._search, repeat=True)

    def post(self, hashtags: list[str], at: dt.datetime, *, likes: int = 0, text: str = "") -> str:
        """Someone posts on X with `hashtags`; returns the post's id (a snowflake of `at`)."""
        self._sequence += 1
        ms = int(at.timestamp() * 1000)
        tweet_id = str(((ms - X_EPOCH_MS) << 22) + self._sequence)
        user_id = str(1000 + self._sequence % 3)
        self.users[user_id] = {"id": user_id, "name": "Supporter", "username": f"user{user_id}"}
        text = text or " ".join(f"#{tag}" for tag in hashtags)
        for hashtag in hashtags:
            self.tweets.setdefault(hashtag, []).append(
                social.tweet_json(tweet_id, text, at, user_id, likes)
            )
        return tweet_id

    def set_likes(self, tweet_id: str, likes: int) -> None:
        for tweets in self.tweets.values():
            for tweet in tweets:
                if tweet["id"] == tweet_id:
                    tweet["public_metrics"]["like_count"] = likes

    def calls(self, endpoint: str) -> list[dict[str, str]]:
        return [params for name, params in self.requests if name == endpoint]

    def _receive(self, endpoint: str, url) -> CallbackResult | None:
        self.requests.append((endpoint, dict(url.query)))
        if self.network_down:
            raise aiohttp.ClientConnectionError("Cannot connect to host api.twitter.com:443")
        if self.failure:
            status, body, headers = self.failure
            return answer(body, status, headers)
        return None

    @staticmethod
    def _hashtag(params: dict[str, str]) -> str:
        return re.match(r"#(\w+) -is:retweet$", params["query"]).group(1)

    def _counts(self, url, **kwargs) -> CallbackResult:
        if failed := self._receive("counts", url):
            return failed
        params = dict(url.query)
        hashtag = self._hashtag(params)
        end = tracking.utcnow() - dt.timedelta(seconds=30)
        start = tracking.parse_time(params["start_time"])
        buckets = []
        while start < end:
            hour = tracking.floor_hour(start)
            buckets.append(
                {
                    "end": social.x_time(min(hour + dt.timedelta(hours=1), end)),
                    "start": social.x_time(start),
                    "tweet_count": self.hourly[(hashtag, hour)],
                }
            )
            start = hour + dt.timedelta(hours=1)
        total = sum(bucket["tweet_count"] for bucket in buckets)
        return answer({"data": buckets, "meta": {"total_tweet_count": total}})

    def _search(self, url, **kwargs) -> CallbackResult:
        if failed := self._receive("search", url):
            return failed
        params = dict(url.query)
        since = int(params.get("since_id", 0))
        found = sorted(
            (t for t in self.tweets.get(self._hashtag(params), []) if int(t["id"]) > since),
            key=lambda t: int(t["id"]),
            reverse=True,
        )[: int(params["max_results"])]
        if not found:
            return answer({"meta": {"result_count": 0}})
        authors = {tweet["author_id"] for tweet in found}
        return answer(
            {
                "data": found,
                "includes": {"users": [self.users[user_id] for user_id in sorted(authors)]},
                "meta": {
                    "newest_id": found[0]["id"],
                    "oldest_id": found[-1]["id"],
                    "result_count": len(found),
                },
            }
        )


@pytest.fixture
def fake_x():
    with aioresponses() as mocked:
        yield FakeX(mocked)


def stored_counts(storage: Storage, source: str, hashtag: str) -> dict[str, int]:
    rows = storage.db.query(
        "SELECT hour, count FROM hashtag_counts WHERE source = ? AND hashtag = ?",
        [source, hashtag],
    )
    return {row["hour"]: row["count"] for row in rows}


def stored_posts(storage: Storage) -> list[dict]:
    return list(storage.db.query("SELECT * FROM hashtag_posts ORDER BY post_id"))


# --- X: counts and posts -----------------------------------------------------------------------


async def test_x_poll_stores_hourly_counts_and_new_posts(clock, storage, one_tag, fake_x, x_source):
    fake_x.hourly[("16Days", NOW.replace(minute=0) - dt.timedelta(hours=1))] = 40
    fake_x.hourly[("16Days", NOW.replace(minute=0))] = 12
    fake_x.post(["16Days"], NOW - dt.timedelta(minutes=10), likes=7)

    report = await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)

    counts = stored_counts(storage, "x", "16Days")
    assert counts["2026-11-25T09:00:00+00:00"] == 40
    assert counts["2026-11-25T10:00:00+00:00"] == 12
    [post] = stored_posts(storage)
    assert (post["likes"], post["hashtag"]) == (7, "16Days")
    assert post["url"].startswith("https://x.com/user") and post["author"].startswith("@user")
    assert report.new_posts == 1 and report.alerts == []
    search = fake_x.calls("search")[0]
    assert search["query"] == "#16Days -is:retweet"
    assert "public_metrics" in search["tweet.fields"] and search["max_results"] == "100"


async def test_an_hour_counted_again_replaces_its_earlier_value(
    clock, storage, one_tag, fake_x, x_source
):
    ten = NOW.replace(minute=0)
    fake_x.hourly[("16Days", ten)] = 5
    await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)

    clock.move_to(NOW + dt.timedelta(hours=1))
    fake_x.hourly[("16Days", ten)] = 8  # the rest of 10:00-11:00 came in
    fake_x.hourly[("16Days", ten + dt.timedelta(hours=1))] = 2
    await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)

    counts = stored_counts(storage, "x", "16Days")
    assert counts["2026-11-25T10:00:00+00:00"] == 8
    assert counts["2026-11-25T11:00:00+00:00"] == 2
    assert fake_x.calls("counts")[1]["start_time"] == "2026-11-25T10:00:00Z"
    assert tracking.daily_volume(storage, 1)[("x", "16Days", NOW.date())] == 10


async def test_second_poll_asks_only_for_posts_after_the_checkpoint(
    clock, storage, one_tag, fake_x, x_source
):
    first = fake_x.post(["16Days"], NOW - dt.timedelta(minutes=20))
    newest = fake_x.post(["16Days"], NOW - dt.timedelta(minutes=5))
    await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)

    clock.move_to(NOW + dt.timedelta(hours=1))
    later = fake_x.post(["16Days"], NOW + dt.timedelta(minutes=40))
    report = await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)

    first_search, second_search = fake_x.calls("search")
    assert "since_id" not in first_search
    assert second_search["since_id"] == newest
    assert report.new_posts == 1
    assert [post["post_id"] for post in stored_posts(storage)] == sorted([first, newest, later])


async def test_a_post_found_under_two_hashtags_is_stored_once_with_its_latest_engagement(
    clock, storage, one_tag, fake_x, x_source
):
    both = one_tag.model_copy(update={"hashtags": ("16Days", "StepUpMigrantWomen")})
    tweet_id = fake_x.post(["16Days", "StepUpMigrantWomen"], NOW - dt.timedelta(minutes=5))
    settings = make_settings(x_daily_request_budget=100)
    await tracking.poll_once(settings, one_tag, storage, x_source=x_source)
    fake_x.set_likes(tweet_id, 30)

    report = await tracking.poll_once(settings, both, storage, x_source=x_source)

    [post] = stored_posts(storage)
    assert post["likes"] == 30
    assert report.new_posts == 0
    top = tracking.top_posts(storage, NOW - dt.timedelta(days=1))
    assert [(p.post_id, p.engagement) for p in top] == [(tweet_id, 30)]


async def test_after_a_week_offline_the_search_starts_afresh_instead_of_failing(
    clock, storage, one_tag, fake_x, x_source
):
    fake_x.post(["16Days"], NOW - dt.timedelta(minutes=5))
    await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)

    clock.move_to(NOW + dt.timedelta(days=8))
    fresh = fake_x.post(["16Days"], NOW + dt.timedelta(days=8, minutes=-5))
    report = await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)

    assert "since_id" not in fake_x.calls("search")[-1]  # X refuses a since_id over 7 days old
    assert report.new_posts == 1 and report.alerts == []
    assert fresh in {post["post_id"] for post in stored_posts(storage)}


# --- X: the daily request budget ---------------------------------------------------------------


async def test_daily_budget_is_never_exceeded_however_often_the_poll_runs(
    clock, storage, campaign, fake_x, x_source
):
    settings = make_settings(x_daily_request_budget=7, tracking_poll_minutes=5)
    midnight = NOW.replace(hour=0, minute=0)

    for poll in range(40):
        clock.move_to(midnight + dt.timedelta(minutes=30 * poll + 1))
        report = await tracking.poll_once(settings, campaign, storage, x_source=x_source)

    assert len(fake_x.requests) == 7
    assert storage.tracking_requests_made("x", NOW.date().isoformat()) == 7
    assert report.skipped == {"x": "budget"}

    clock.move_to(midnight + dt.timedelta(days=1, minutes=1))
    await tracking.poll_once(settings, campaign, storage, x_source=x_source)
    assert len(fake_x.requests) > 7  # a new UTC day, a new budget


async def test_the_budget_is_spread_so_x_is_still_watched_late_in_the_day(
    clock, storage, campaign, fake_x, x_source
):
    settings = make_settings(x_daily_request_budget=48, tracking_poll_minutes=60)
    midnight = NOW.replace(hour=0, minute=0)
    per_poll = []

    for hour in range(24):
        clock.move_to(midnight + dt.timedelta(hours=hour, minutes=1))
        before = len(fake_x.requests)
        await tracking.poll_once(settings, campaign, storage, x_source=x_source)
        per_poll.append(len(fake_x.requests) - before)

    assert sum(per_poll) <= 48
    assert all(per_poll), per_poll  # every hourly poll, 23:01 included, still looked at X
    refreshed = storage.tracking_refreshed_at("x")
    assert set(refreshed) == set(campaign.all_hashtags)  # the budget rotates over every hashtag


async def test_a_failed_request_still_counts_against_the_budget(
    clock, storage, one_tag, fake_x, x_source
):
    fake_x.failure = (503, X_ERRORS[503], {})

    await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)

    assert storage.tracking_requests_made("x", NOW.date().isoformat()) == len(fake_x.requests) == 1


async def test_bluesky_is_polled_even_when_the_x_budget_is_spent(clock, storage, one_tag, fake_x):
    bluesky = FakeBluesky()
    bluesky.post(["16Days"], NOW - dt.timedelta(minutes=3))
    x_source = tracking.XSource("test-bearer")
    try:
        report = await tracking.poll_once(
            make_settings(x_daily_request_budget=0),
            one_tag,
            storage,
            x_source=x_source,
            bluesky_source=bluesky.source(),
        )
    finally:
        await x_source.aclose()

    assert fake_x.requests == []
    assert report.skipped == {"x": "budget"} and report.new_posts == 1


# --- X: failures are reported once, with no tight retries --------------------------------------


@pytest.mark.parametrize(
    ("status", "problem"),
    [(401, "unauthorized"), (403, "forbidden"), (503, "server_error"), (None, "network")],
)
async def test_each_x_failure_is_reported_once_and_again_only_after_recovery(
    clock, storage, campaign, fake_x, x_source, status, problem
):
    settings = make_settings(x_daily_request_budget=1000)

    def fail() -> None:
        if status is None:
            fake_x.network_down = True
        else:
            fake_x.failure = (status, X_ERRORS[status], {})

    def recover() -> None:
        fake_x.network_down, fake_x.failure = False, None

    async def poll_at(minutes: int) -> tracking.PollReport:
        clock.move_to(NOW + dt.timedelta(minutes=minutes))
        return await tracking.poll_once(settings, campaign, storage, x_source=x_source)

    fail()
    first = await poll_at(0)
    assert [(a.source, a.problem) for a in first.alerts] == [("x", problem)]
    assert len(fake_x.requests) == 1  # nothing more from X in that poll: no retry, no next tag
    assert (await poll_at(60)).alerts == []
    assert (await poll_at(120)).alerts == []
    assert [a.problem for a in tracking.active_alerts(storage)] == [problem]

    recover()
    recovered = await poll_at(180)
    assert (recovered.alerts, recovered.recovered) == ([], ["x"])
    assert tracking.active_alerts(storage) == []
    assert (await poll_at(200)).recovered == []  # said once, when it ended

    fail()
    assert [a.problem for a in (await poll_at(240)).alerts] == [problem]


async def test_an_outage_changing_its_face_is_one_alert_but_bad_credentials_are_said(
    clock, storage, campaign, fake_x, x_source
):
    settings = make_settings(x_daily_request_budget=1000)
    said = []
    for minutes, failure in enumerate([(503, X_ERRORS[503], {}), None, (401, X_ERRORS[401], {})]):
        fake_x.failure, fake_x.network_down = failure, failure is None  # 503, no answer, 401
        clock.move_to(NOW + dt.timedelta(minutes=60 * minutes))
        report = await tracking.poll_once(settings, campaign, storage, x_source=x_source)
        said.append([alert.problem for alert in report.alerts])
    assert said == [["server_error"], [], ["unauthorized"]]


# X answers a 429 with a JSON problem; its edge, sometimes, with an empty or HTML body.
BODILESS = {
    "empty": (b"", {}),
    "empty-json": (b"", {"Content-Type": "application/json"}),
    "html": (b"<html><body>Rate limit exceeded</body></html>", {"Content-Type": "text/html"}),
    "cut-json": (b'{"title": "Too Many', {"Content-Type": "application/json"}),
}
BODIES = {"json": (X_ERRORS[429], {}), **BODILESS}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
async def test_after_a_429_nothing_goes_to_x_until_the_rate_limit_resets(
    clock, storage, one_tag, fake_x, x_source, body
):
    reset = NOW + dt.timedelta(minutes=15)
    content, headers = body
    fake_x.failure = (429, content, {**headers, **x_rate_limited(reset)[2]})

    first = await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)
    assert [(a.problem, a.resume_at) for a in first.alerts] == [("rate_limited", reset)]
    assert "10:45 UTC" in trends.render_alert("en", first.alerts[0])

    fake_x.failure = None
    for minutes in (1, 5, 14):
        clock.move_to(NOW + dt.timedelta(minutes=minutes))
        report = await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)
        assert report.skipped == {"x": "rate_limited"} and report.alerts == []
    assert len(fake_x.requests) == 1

    clock.move_to(reset + dt.timedelta(seconds=1))
    await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)
    assert len(fake_x.requests) == 3  # counts and search again
    assert tracking.active_alerts(storage) == []


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
async def test_a_429_without_a_reset_header_pauses_x_for_a_rate_limit_window(
    clock, storage, one_tag, fake_x, x_source, body
):
    fake_x.failure = (429, *body)
    report = await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)
    assert [(a.problem, a.resume_at) for a in report.alerts] == [
        ("rate_limited", NOW + dt.timedelta(minutes=15))
    ]
    fake_x.failure = None

    clock.move_to(NOW + dt.timedelta(minutes=14, seconds=59))
    await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)
    assert len(fake_x.requests) == 1

    clock.move_to(NOW + dt.timedelta(minutes=15, seconds=1))
    await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)
    assert len(fake_x.requests) == 3


async def test_a_429_naming_a_reset_days_away_pauses_x_for_a_day_at_most(
    clock, storage, one_tag, fake_x, x_source
):
    fake_x.failure = x_rate_limited(NOW + dt.timedelta(days=7))  # a clock gone wrong
    report = await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)
    assert [a.resume_at for a in report.alerts] == [NOW + tracking.LONGEST_RATE_LIMIT_PAUSE]
    assert tracking.rate_limit_resets(storage, ["x"]) == {"x": NOW + dt.timedelta(days=1)}


@pytest.mark.parametrize(
    ("status", "problem"),
    [(401, "unauthorized"), (403, "forbidden"), (502, "server_error"), (418, "unexpected")],
)
@pytest.mark.parametrize("body", BODILESS.values(), ids=BODILESS.keys())
async def test_other_errors_without_a_json_body_are_named_by_their_status(
    clock, storage, one_tag, fake_x, x_source, body, status, problem
):
    fake_x.failure = (status, *body)
    report = await tracking.poll_once(make_settings(), one_tag, storage, x_source=x_source)
    assert [a.problem for a in report.alerts] == [problem]


# X's answer with a 200 that is not what it documents: cut off, a page, another shape.
JSON, HTML = {"Content-Type": "application/json"}, {"Content-Type": "text/html"}
UNREADABLE = {
    "cut-json": (b'{"data": [{"start": "2026-11-25T09', JSON, "JSONDecodeError"),
    "html": (b"<html><body>Over capacity</body></html>", HTML, "200"),
    "data-not-a-list": (b'{"data": 7, "meta": {}}', JSON, "TypeError"),
    "bucket-without-start": (b'{"data": [{"tweet_count": 3}]}', JSON, "KeyError"),
}


@pytest.mark.parametrize(("body", "headers", "named"), UNREADABLE.values(), ids=UNREADABLE.keys())
async def test_an_unreadable_x_answer_is_reported_once_like_any_failure(
    clock, storage, one_tag, fake_x, x_source, body, headers, named
):
    fake_x.failure = (200, body, headers)
    settings = make_settings()
    reports = []
    for minutes in (0, 60):
        clock.move_to(NOW + dt.timedelta(minutes=minutes))
        reports.append(await tracking.poll_once(settings, one_tag, storage, x_source=x_source))
    assert [[(a.problem, a.detail) for a in r.alerts] for r in reports] == [
        [("unexpected", named)],
        [],
    ]
    alert = trends.render_alert("en", reports[0].alerts[0])
    assert f"X gave an unexpected answer ({named})" in alert


# --- a fake Bluesky ----------------------------------------------------------------------------


def fake_jwt(did: str) -> str:
    return social.jwt(did, "com.atproto.appPass", 1764000000, 1900000000)


class FakeBluesky:
    """bsky.social's createSession and the account's PDS answering app.bsky.feed.searchPosts."""

    PDS = "https://morel.us-east.host.bsky.network"
    DID = "did:plc:z72i7hdynmk6r22z27h6tvur"

    def __init__(self, page_size: int = 100) -> None:
        self.requests: list[httpx.Request] = []
        self.posts: list[tuple[set[str], dict]] = []
        self.failure: tuple[int, dict | bytes, dict] | None = None
        self.page_size = page_size

    def source(self) -> tracking.BlueskySource:
        return tracking.BlueskySource(
            "stepup.bsky.social", "app-pass-word", transport=httpx.MockTransport(self.handle)
        )

    def post(self, tags: list[str], at: dt.datetime, *, likes: int = 0) -> str:
        author = len(self.posts) % 2
        text = " ".join(f"#{tag}" for tag in tags)
        view = social.post_view(
            f"3l{len(self.posts):011d}",
            f"did:plc:author{author}",
            f"author{author}.bsky.social",
            text,
            at,
            likes,
        )
        self.posts.append((set(tags), view))
        return view["uri"]

    def searches(self) -> list[dict[str, list[str]]]:
        return [
            parse_qs(request.url.query.decode())
            for request in self.requests
            if request.url.path.endswith("app.bsky.feed.searchPosts")
        ]

    def logins(self) -> int:
        return sum(r.url.path.endswith("createSession") for r in self.requests)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failure:
            status, body, headers = self.failure
            if isinstance(body, bytes):  # as it came off the wire
                return httpx.Response(status, content=body, headers=headers)
            return httpx.Response(status, json=body, headers=headers)
        if request.url.path == "/xrpc/com.atproto.server.createSession":
            return httpx.Response(200, json=self._session())
        if request.url.path == "/xrpc/app.bsky.feed.searchPosts":
            assert request.url.host == "morel.us-east.host.bsky.network"
            assert request.headers["authorization"].startswith("Bearer ")
            return httpx.Response(200, json=self._search(parse_qs(request.url.query.decode())))
        return httpx.Response(404, json={"error": "MethodNotImplemented"})

    def _session(self) -> dict:
        token = fake_jwt(self.DID)
        return social.session_json(self.DID, "stepup.bsky.social", token, token, self.PDS)

    def _search(self, params: dict[str, list[str]]) -> dict:
        tags = set(params["tag"])
        since = tracking.parse_time(params["since"][0]) if "since" in params else None
        matching = sorted(
            (
                view
                for post_tags, view in self.posts
                if tags <= post_tags
                and (since is None or tracking.parse_time(view["record"]["createdAt"]) >= since)
            ),
            key=lambda view: view["indexedAt"],
            reverse=True,
        )
        offset = int(params.get("cursor", ["0"])[0])
        limit = min(int(params["limit"][0]), self.page_size)
        page = matching[offset : offset + limit]
        more = offset + limit < len(matching)
        return {"posts": page, **({"cursor": str(offset + limit)} if more else {})}


BSKY_RATE_LIMITED = (
    429,
    {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
    {
        "ratelimit-limit": "3000",
        "ratelimit-remaining": "0",
        "ratelimit-reset": str(int((NOW + dt.timedelta(minutes=5)).timestamp())),
        "ratelimit-policy": "3000;w=300",
    },
)


# --- Bluesky -----------------------------------------------------------------------------------


async def test_bluesky_posts_are_stored_and_counted_per_hashtag_and_hour(clock, storage, campaign):
    bluesky = FakeBluesky()
    nine = NOW.replace(minute=0) - dt.timedelta(hours=1)
    bluesky.post(["16Days", "StepUpMigrantWomen"], nine + dt.timedelta(minutes=10), likes=4)
    bluesky.post(["16Days"], nine + dt.timedelta(minutes=50))
    bluesky.post(["16Days"], NOW - dt.timedelta(minutes=1))
    source = bluesky.source()

    report = await tracking.poll_once(make_settings(), campaign, storage, bluesky_source=source)
    await source.aclose()

    assert stored_counts(storage, "bluesky", "16Days") == {
        "2026-11-25T09:00:00+00:00": 2,
        "2026-11-25T10:00:00+00:00": 1,
    }
    # The post carrying both hashtags counts for both, and is stored once.
    assert stored_counts(storage, "bluesky", "StepUpMigrantWomen") == {
        "2026-11-25T09:00:00+00:00": 1
    }
    assert report.new_posts == 3 and len(stored_posts(storage)) == 3
    top = tracking.top_posts(storage, NOW - dt.timedelta(days=1), limit=1)[0]
    assert top.likes == 4 and top.url.startswith("https://bsky.app/profile/author0.bsky.social/")


async def test_bluesky_signs_in_once_and_searches_from_the_checkpoint(clock, storage, one_tag):
    bluesky = FakeBluesky()
    bluesky.post(["16Days"], NOW - dt.timedelta(minutes=30))
    newest = NOW - dt.timedelta(minutes=2)
    bluesky.post(["16Days"], newest)
    source = bluesky.source()
    settings = make_settings()

    await tracking.poll_once(settings, one_tag, storage, bluesky_source=source)
    clock.move_to(NOW + dt.timedelta(hours=1))
    bluesky.post(["16Days"], NOW + dt.timedelta(minutes=45))
    report = await tracking.poll_once(settings, one_tag, storage, bluesky_source=source)
    await source.aclose()

    first, second = bluesky.searches()
    assert "since" not in first and first["sort"] == ["latest"] and first["tag"] == ["16Days"]
    assert tracking.parse_time(second["since"][0]) == newest.replace(microsecond=0)
    assert report.new_posts == 1 and len(stored_posts(storage)) == 3
    assert bluesky.logins() == 1


async def test_bluesky_follows_a_few_pages_when_many_posts_arrived(clock, storage, one_tag):
    bluesky = FakeBluesky(page_size=2)
    for minute in range(5):
        bluesky.post(["16Days"], NOW - dt.timedelta(minutes=minute + 1))
    source = bluesky.source()

    report = await tracking.poll_once(make_settings(), one_tag, storage, bluesky_source=source)
    await source.aclose()

    assert report.new_posts == 5
    assert [search.get("cursor") for search in bluesky.searches()] == [None, ["2"], ["4"]]


@pytest.mark.parametrize(
    ("failure", "problem"),
    [
        (
            (401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
            "unauthorized",
        ),
        ((503, {"error": "InternalServerError", "message": "Service Unavailable"}), "server_error"),
        ((200, b'{"posts": [{"uri": "at:'), "unexpected"),  # cut off: broken JSON
        ((200, {"posts": "none"}), "unexpected"),
    ],
)
async def test_each_bluesky_failure_is_reported_once(clock, storage, one_tag, failure, problem):
    bluesky = FakeBluesky()
    bluesky.failure = (*failure, {"Content-Type": "application/json"})
    source = bluesky.source()

    reports = []
    for minutes in (0, 60, 120):
        clock.move_to(NOW + dt.timedelta(minutes=minutes))
        reports.append(
            await tracking.poll_once(make_settings(), one_tag, storage, bluesky_source=source)
        )
    bluesky.failure = None
    clock.move_to(NOW + dt.timedelta(minutes=180))
    recovered = await tracking.poll_once(make_settings(), one_tag, storage, bluesky_source=source)
    await source.aclose()

    assert [[(a.source, a.problem) for a in r.alerts] for r in reports] == [
        [("bluesky", problem)],
        [],
        [],
    ]
    assert (recovered.alerts, recovered.recovered) == ([], ["bluesky"])
    assert tracking.active_alerts(storage) == []
    assert len(bluesky.requests) == 3 + 2  # one request per failed poll, then sign-in and search


async def test_bluesky_rate_limit_reset_is_respected(clock, storage, one_tag):
    bluesky = FakeBluesky()
    bluesky.failure = BSKY_RATE_LIMITED
    source = bluesky.source()

    report = await tracking.poll_once(make_settings(), one_tag, storage, bluesky_source=source)
    bluesky.failure = None
    clock.move_to(NOW + dt.timedelta(minutes=4))
    waiting = await tracking.poll_once(make_settings(), one_tag, storage, bluesky_source=source)
    clock.move_to(NOW + dt.timedelta(minutes=6))
    await tracking.poll_once(make_settings(), one_tag, storage, bluesky_source=source)
    await source.aclose()

    assert [a.problem for a in report.alerts] == ["rate_limited"]
    assert waiting.skipped == {"bluesky": "rate_limited"}
    assert len(bluesky.requests) == 1 + 2


# --- sources from settings ---------------------------------------------------------------------


async def test_only_configured_sources_are_built():
    nothing = tracking.build_sources(Settings(_env_file=None))
    assert (nothing.x, nothing.bluesky) == (None, None)

    both = tracking.build_sources(
        Settings(
            _env_file=None,
            x_bearer_token="bearer",
            bluesky_handle="stepup.bsky.social",
            bluesky_app_password="app-pass-word",
        )
    )
    assert isinstance(both.x, tracking.XSource)
    assert isinstance(both.bluesky, tracking.BlueskySource)
    await both.aclose()


# --- reading: /trends and the daily digest -----------------------------------------------------


def test_daily_volume_sums_hours_into_days_per_source_and_hashtag(storage):
    hashtag_counts(storage)

    volume = tracking.daily_volume(storage, 2, today=NOW.date())

    assert volume == {
        ("x", "16Days", dt.date(2026, 11, 24)): 50,
        ("x", "16Days", dt.date(2026, 11, 25)): 75,
        ("bluesky", "16Days", dt.date(2026, 11, 25)): 5,
        ("x", "StepUpMigrantWomen", dt.date(2026, 11, 25)): 3,
    }
    assert tracking.daily_volume(storage, 1, today=NOW.date()).keys() == {
        key for key in volume if key[2] == NOW.date()
    }
    series = trends.volume_series(volume, "en")
    assert series["#16Days on X"] == {dt.date(2026, 11, 24): 50, dt.date(2026, 11, 25): 75}


def test_day_change_compares_each_hashtag_with_the_day_before(storage):
    hashtag_counts(storage)

    changes = tracking.day_change(storage, NOW.date())

    assert [(c.hashtag, c.counts, c.total, c.previous) for c in changes] == [
        ("16Days", {"x": 75, "bluesky": 5}, 80, 50),
        ("StepUpMigrantWomen", {"x": 3}, 3, 0),
    ]


# --- against loopback X and Bluesky: the real clients over a socket (tests/support/social.py) --


@pytest.fixture
async def loopback():
    """A loopback X and Bluesky, the sources pointed at them, and short timeouts: a second of
    silence is a timeout, ten seconds for a whole answer."""
    async with social.FakeX() as x, social.FakeBluesky() as bluesky:
        yield x, bluesky


@pytest.fixture
def short_timeouts(monkeypatch):
    monkeypatch.setattr(tracking, "REQUEST_TIMEOUT_SECONDS", 1)
    monkeypatch.setattr(tracking, "ANSWER_DEADLINE_SECONDS", 3)


def loopback_sources(x: social.FakeX, bluesky: social.FakeBluesky) -> tracking.Sources:
    return tracking.build_sources(
        make_settings(
            x_bearer_token=social.X_BEARER,
            x_api_url=x.url,
            bluesky_handle=social.BLUESKY_HANDLE,
            bluesky_app_password=social.BLUESKY_PASSWORD,
            bluesky_api_url=bluesky.url,
        )
    )


async def poll_loopback(
    sources: tracking.Sources, storage: Storage, campaign
) -> tracking.PollReport:
    settings = make_settings(x_daily_request_budget=1000)
    # Never wait for ever: a poll that hangs fails the test instead.
    return await asyncio.wait_for(
        tracking.poll_once(
            settings, campaign, storage, x_source=sources.x, bluesky_source=sources.bluesky
        ),
        timeout=60,
    )


@pytest.mark.parametrize(
    ("refresh_too", "sign_ins"),
    [(False, 1), (True, 2)],
    ids=["refreshed", "refresh-refused-signs-in-again"],
)
async def test_a_bluesky_session_ended_early_is_refreshed_or_renewed_within_the_poll(
    storage, one_tag, loopback, refresh_too, sign_ins
):
    x, bluesky = loopback
    sources = loopback_sources(x, bluesky)
    await poll_loopback(sources, storage, one_tag)
    bluesky.post("16Days", dt.datetime.now(UTC))
    # Bluesky forgets the access token (and the refresh token) long before their time.
    bluesky.expire_sessions(refresh_too=refresh_too)

    report = await poll_loopback(sources, storage, one_tag)
    await sources.aclose()

    assert (report.alerts, report.new_posts) == ([], 1)
    assert bluesky.calls("refreshSession") == 1  # once, then the app password once at most
    assert bluesky.calls("createSession") == sign_ins


async def test_a_bluesky_outage_does_not_use_the_app_password_at_every_poll(
    storage, one_tag, loopback
):
    x, bluesky = loopback
    sources = loopback_sources(x, bluesky)
    await poll_loopback(sources, storage, one_tag)
    bluesky.fault = social.server_error(502)
    for _ in range(3):
        await poll_loopback(sources, storage, one_tag)
    bluesky.fault = None
    report = await poll_loopback(sources, storage, one_tag)
    await sources.aclose()

    assert report.recovered == ["bluesky"]
    # createSession allows 30 sign-ins in 5 minutes and 300 a day: the session outlives outages.
    assert bluesky.calls("createSession") == 1


async def test_a_wrong_or_revoked_app_password_is_said_and_tried_once_a_poll(
    storage, one_tag, loopback
):
    x, bluesky = loopback
    bluesky.password = "another-pass-word"
    sources = loopback_sources(x, bluesky)
    reports = [await poll_loopback(sources, storage, one_tag) for _ in range(2)]
    await sources.aclose()
    assert [[(a.source, a.problem) for a in r.alerts] for r in reports] == [
        [("bluesky", "unauthorized")],
        [],
    ]
    assert bluesky.calls("createSession") == 2 and bluesky.calls("searchPosts") == 0


SILENT = {
    "no-answer": social.Fault("hang"),
    "trickle": social.Fault("trickle"),
    "closed": social.Fault("close"),
}


@pytest.mark.parametrize("fault", SILENT.values(), ids=SILENT.keys())
@pytest.mark.parametrize("service", ["x", "bluesky"])
async def test_a_source_that_never_answers_is_given_up_in_time_and_reported_once(
    storage, one_tag, loopback, short_timeouts, caplog, service, fault
):
    x, bluesky = loopback
    server = {"x": x, "bluesky": bluesky}[service]
    server.fault = fault
    sources = loopback_sources(x, bluesky)
    caplog.set_level(logging.INFO)

    reports = [await poll_loopback(sources, storage, one_tag) for _ in range(2)]
    await sources.aclose()

    assert [[(a.source, a.problem) for a in r.alerts] for r in reports] == [
        [(service, "network")],
        [],
    ]
    # One request a poll, no retry (aiohttp alone sends a GET once more on a dropped connection).
    assert len(server.requests) <= 2 * 2
    failures = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 2 and all(service in line for line in failures)
    assert not any(secret in caplog.text for secret in social.SECRETS)


AN_HOUR_AWAY = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(hours=1)
ANSWERS = {
    "x-500": ("x", social.server_error(500), "server_error"),
    "x-502-html": ("x", social.html_page(502), "server_error"),
    "x-429-an-hour": ("x", social.x_rate_limited(AN_HOUR_AWAY), "rate_limited"),
    "x-200-html": ("x", social.html_page(200), "unexpected"),
    "x-200-other-shape": ("x", social.Fault("status", 200, {"data": {"id": "1"}}), "unexpected"),
    "x-401": ("x", social.Fault("status", 401, social.X_UNAUTHORIZED), "unauthorized"),
    "x-403": ("x", social.Fault("status", 403, X_ERRORS[403]), "forbidden"),
    "bluesky-503": ("bluesky", social.server_error(503), "server_error"),
    "bluesky-502-html": ("bluesky", social.html_page(502), "server_error"),
    "bluesky-429-an-hour": ("bluesky", social.bluesky_rate_limited(AN_HOUR_AWAY), "rate_limited"),
    "bluesky-200-html": ("bluesky", social.html_page(200), "unexpected"),
    "bluesky-200-other-shape": (
        "bluesky",
        social.Fault("status", 200, {"feed": []}, paths=("searchPosts",)),
        "unexpected",
    ),
}


@pytest.mark.parametrize(("service", "fault", "problem"), ANSWERS.values(), ids=ANSWERS.keys())
async def test_each_answer_a_service_fails_with_is_one_alert_and_the_other_source_goes_on(
    storage, one_tag, loopback, service, fault, problem
):
    x, bluesky = loopback
    now = dt.datetime.now(UTC)
    x.tweet("16Days", now - dt.timedelta(minutes=5))
    bluesky.post("16Days", now - dt.timedelta(minutes=5))
    {"x": x, "bluesky": bluesky}[service].fault = fault
    sources = loopback_sources(x, bluesky)

    reports = [await poll_loopback(sources, storage, one_tag) for _ in range(2)]
    await sources.aclose()

    assert [[(a.source, a.problem) for a in r.alerts] for r in reports] == [
        [(service, problem)],
        [],
    ]
    if problem == "rate_limited":
        assert reports[0].alerts[0].resume_at == AN_HOUR_AWAY
        assert reports[1].skipped == {service: "rate_limited"}
    other = {"x": "bluesky", "bluesky": "x"}[service]
    assert [post["source"] for post in stored_posts(storage)] == [other]


async def test_atproto_builds_its_answer_models_off_the_event_loop_once(
    storage, one_tag, loopback, monkeypatch
):
    # atproto builds a model at its first use (100-250 ms): on the loop, every supporter waits.
    x, bluesky = loopback
    threads = []
    build = tracking._build_bluesky_models

    def spy() -> None:
        threads.append(threading.current_thread())
        build()

    monkeypatch.setattr(tracking, "_build_bluesky_models", spy)
    sources = loopback_sources(x, bluesky)
    bluesky.expire_sessions()
    for _ in range(2):
        await poll_loopback(sources, storage, one_tag)
    await sources.aclose()
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
