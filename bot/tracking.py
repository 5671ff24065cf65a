"""Hashtag tracking on X and Bluesky: poll, store per source, hashtag and hour, report problems.

Each source sits behind the small `Source` protocol. `poll_once` refreshes every campaign
hashtag it may: X bills reads per request, so each X request is counted against
`x_daily_request_budget` before it is made, and the day's budget is spread over the polls left
in the UTC day so X is still watched in the evening instead of running dry overnight. There is
at most one request per endpoint and hashtag per poll and never a retry: a failure is stored as
an alert, reported to organisers once, and the source is left alone until the next poll (or,
after a 429, until its rate limit resets).

The read side (`daily_volume`, `day_change`, `top_posts`, `digest`) feeds /trends and the
daily organiser digest, rendered by `messages.trends`. Days are UTC days (the same as London's
during the campaign).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Protocol, TypeVar

import httpx

from bot.campaign import Campaign
from bot.config import BLUESKY_API_URL, X_API_URL, Settings
from bot.storage import Storage, stamp, utcnow

if TYPE_CHECKING:
    from atproto_client.models.app.bsky.feed.defs import PostView

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 30
# The most one search or count may take, all its requests together (Bluesky: a sign-in, a
# refresh and three pages); beyond it the source is treated as unreachable until the next poll.
ANSWER_DEADLINE_SECONDS = 120
# X's recent endpoints only look back seven days; a since_id older than that is refused (400).
X_WINDOW = dt.timedelta(days=7)
# X rate-limit windows are 15 minutes; used when a 429 comes without x-rate-limit-reset.
DEFAULT_RATE_LIMIT_PAUSE = dt.timedelta(minutes=15)
# X's longest window is a day: a reset named further away (a wrong clock) is not waited for.
LONGEST_RATE_LIMIT_PAUSE = dt.timedelta(days=1)
X_EPOCH_MS = 1288834974657  # Twitter's snowflake epoch
BLUESKY_PAGES = 3  # up to 300 new posts per hashtag per poll; Bluesky does not bill reads
T = TypeVar("T")
# Problems that last until someone changes the settings or the account, unlike an outage.
MUST_BE_FIXED = frozenset({"unauthorized", "forbidden"})
SESSION_OVER = frozenset({"ExpiredToken", "InvalidToken"})


@dataclass(frozen=True)
class Post:
    source: str
    post_id: str
    author: str
    text: str
    url: str
    created_at: str  # stamp() format, UTC
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0

    @property
    def engagement(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes

    def row(self) -> dict[str, object]:
        row = asdict(self)
        del row["source"]
        return row


@dataclass(frozen=True)
class Found:
    """One search: the posts and the checkpoint the next search starts from."""

    posts: list[Post]
    checkpoint: str | None


class SourceError(Exception):
    """A source failed. `problem` is one of: unauthorized, forbidden, rate_limited,
    server_error, network, unexpected."""

    def __init__(
        self, problem: str, detail: str = "", resume_at: dt.datetime | None = None
    ) -> None:
        super().__init__(f"{problem}: {detail}")
        self.problem = problem
        self.detail = detail[:200]
        self.resume_at = resume_at


class Source(Protocol):
    name: str  # "x" or "bluesky": the key in storage and in the catalog (trends.source_<name>)
    metered: bool  # each call is one request counted against the daily request budget
    has_counts: bool  # False: hourly counts are computed from the stored posts

    async def hourly_counts(self, hashtag: str, start: dt.datetime) -> dict[dt.datetime, int]: ...

    async def search(self, hashtag: str, checkpoint: str | None) -> Found: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Alert:
    source: str
    problem: str
    detail: str = ""
    resume_at: dt.datetime | None = None
    since: dt.datetime | None = None  # when the problem was first seen (UTC)


@dataclass
class PollReport:
    new_posts: int = 0
    alerts: list[Alert] = field(default_factory=list)  # new problems: tell organisers now
    recovered: list[str] = field(default_factory=list)  # sources whose problems just ended
    skipped: dict[str, str] = field(default_factory=dict)  # source -> "budget" | "rate_limited"


@dataclass(frozen=True)
class DayChange:
    """One hashtag's volume on a day, per source, against the day before (all sources)."""

    hashtag: str
    counts: dict[str, int]
    previous: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def floor_hour(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def parse_time(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# --- X -----------------------------------------------------------------------------------------


def snowflake_time(post_id: str) -> dt.datetime:
    """When an X post was created, read from its id."""
    return dt.datetime.fromtimestamp(((int(post_id) >> 22) + X_EPOCH_MS) / 1000, dt.UTC)


def _x_error(error: Exception) -> SourceError:
    """What went wrong, from the status alone: X's error bodies are not always JSON."""
    import aiohttp

    from bot.xapi import rate_limit_reset

    if not isinstance(error, aiohttp.ClientResponseError):
        return SourceError("network", type(error).__name__)
    status = error.status
    if status == 429:
        return SourceError("rate_limited", "429", rate_limit_reset(error.headers))
    problem = {401: "unauthorized", 403: "forbidden"}.get(status)
    if problem is None:
        problem = "server_error" if status >= 500 else "unexpected"
    return SourceError(problem, str(status))


class XSource:
    """Recent counts and recent search on the X API v2, with an app-only bearer token."""

    name = "x"
    metered = True
    has_counts = True

    def __init__(self, bearer_token: str, api_url: str = X_API_URL) -> None:
        # tweepy (with aiohttp) is imported only by bots that track X: it slows every start.
        from tweepy.asynchronous import AsyncClient as XClient

        # wait_on_rate_limit=False: a 429 must come back to us, never sleep inside tweepy.
        self._client = XClient(
            bearer_token=bearer_token, return_type=dict, wait_on_rate_limit=False
        )
        self._api_url = api_url

    async def _call(self, request: Awaitable[dict]) -> dict:
        """Await one tweepy request (it reads `session` only when awaited) as a SourceError."""
        import aiohttp

        from bot.xapi import x_session

        if self._client.session is None:
            self._client.session = x_session(REQUEST_TIMEOUT_SECONDS, self._api_url)
        try:
            return await request
        except (aiohttp.ClientError, TimeoutError) as error:
            raise _x_error(error) from error

    @staticmethod
    def query(hashtag: str) -> str:
        return f"#{hashtag} -is:retweet"

    async def hourly_counts(self, hashtag: str, start: dt.datetime) -> dict[dt.datetime, int]:
        body = await self._call(
            self._client.get_recent_tweets_count(
                self.query(hashtag), granularity="hour", start_time=start
            )
        )
        return {
            floor_hour(parse_time(bucket["start"])): bucket["tweet_count"]
            for bucket in body.get("data", [])
        }

    async def search(self, hashtag: str, checkpoint: str | None) -> Found:
        if checkpoint and snowflake_time(checkpoint) < utcnow() - X_WINDOW + dt.timedelta(hours=1):
            checkpoint = None  # too old for the recent endpoint; start from the newest again
        body = await self._call(
            self._client.search_recent_tweets(
                self.query(hashtag),
                since_id=checkpoint,
                max_results=100,
                tweet_fields=["public_metrics", "created_at", "author_id"],
                expansions=["author_id"],
                user_fields=["username"],
            )
        )
        usernames = {
            user["id"]: user["username"] for user in body.get("includes", {}).get("users", [])
        }
        posts = [self._post(tweet, usernames) for tweet in body.get("data", [])]
        return Found(posts, body.get("meta", {}).get("newest_id") or checkpoint)

    def _post(self, tweet: dict, usernames: dict[str, str]) -> Post:
        metrics = tweet.get("public_metrics", {})
        username = usernames.get(tweet.get("author_id", ""))
        return Post(
            post_id=tweet["id"],
            author=f"@{username}" if username else "",
            text=tweet.get("text", ""),
            # x.com/i/status/<id> opens any post when the author's username is unknown.
            url=f"https://x.com/{username or 'i'}/status/{tweet['id']}",
            created_at=stamp(parse_time(tweet["created_at"])),
            likes=metrics.get("like_count", 0),
            reposts=metrics.get("retweet_count", 0),
            replies=metrics.get("reply_count", 0),
            quotes=metrics.get("quote_count", 0),
            source=self.name,
        )

    async def aclose(self) -> None:
        if self._client.session is not None:
            await self._client.session.close()
            self._client.session = None


# --- Bluesky -----------------------------------------------------------------------------------


def _bluesky_error(error: Exception) -> SourceError:
    from atproto_client import exceptions as bluesky_errors

    if isinstance(error, bluesky_errors.RateLimitExceededError):
        return SourceError("rate_limited", "429", error.reset_at)
    response = getattr(error, "response", None)
    status = response.status_code if response is not None else None
    if isinstance(error, bluesky_errors.UnauthorizedError):
        return SourceError("unauthorized" if status == 401 else "forbidden", str(status))
    if status is not None and status >= 500:
        return SourceError("server_error", str(status))
    if isinstance(error, bluesky_errors.NetworkError | httpx.HTTPError):
        return SourceError("network", type(error).__name__)
    return SourceError("unexpected", str(status or type(error).__name__))


def _session_over(error: Exception) -> bool:
    """Bluesky no longer takes the session's token: it expired early, was revoked, or the
    server forgot it (XRPC error ExpiredToken or InvalidToken, with a 400 or a 401)."""
    response = getattr(error, "response", None)
    content = getattr(response, "content", None)
    return getattr(content, "error", None) in SESSION_OVER


def _build_bluesky_models() -> None:
    """Build the models of the answers a poll reads. atproto defers them to their first use,
    which takes 100-250 ms: in a worker thread, not on the event loop supporters wait on."""
    from atproto_client import models

    for model in (
        models.ComAtprotoServerCreateSession.Response,
        models.ComAtprotoServerRefreshSession.Response,
        models.AppBskyFeedSearchPosts.Response,
        models.AppBskyFeedPost.Record,
    ):
        model.model_rebuild()


class BlueskySource:
    """Bluesky's searchPosts by tag, signed in with an app password once; a session Bluesky
    ends is refreshed, or signed in afresh, within the same poll."""

    name = "bluesky"
    metered = False
    has_counts = False

    def __init__(
        self,
        handle: str,
        app_password: str,
        *,
        api_url: str = BLUESKY_API_URL,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # atproto takes half a second to import: only bots that track Bluesky pay for it.
        from atproto import AsyncClient as BlueskyClient
        from atproto_client.request import AsyncRequest

        self._handle = handle
        self._password = app_password
        request = AsyncRequest(timeout=REQUEST_TIMEOUT_SECONDS, transport=transport)
        self._client = BlueskyClient(api_url, request=request)
        self._signed_in = False
        self._models_built = False

    async def hourly_counts(self, hashtag: str, start: dt.datetime) -> dict[dt.datetime, int]:
        raise NotImplementedError("Bluesky has no counts endpoint; counts come from posts")

    async def search(self, hashtag: str, checkpoint: str | None) -> Found:
        from atproto_client import exceptions as bluesky_errors

        try:
            return await self._search_signed_in(hashtag, checkpoint)
        except (bluesky_errors.AtProtocolError, httpx.HTTPError) as error:
            # Sign in afresh next poll only when the account refused us: createSession is
            # limited to 30 per 5 minutes and 300 a day, and an outage is not our session's fault.
            if isinstance(error, bluesky_errors.UnauthorizedError) or _session_over(error):
                self._signed_in = False
            raise _bluesky_error(error) from error

    async def _sign_in(self) -> None:
        if not self._models_built:
            await asyncio.to_thread(_build_bluesky_models)
            self._models_built = True
        await self._client.login(self._handle, self._password, fetch_bsky_profile=False)
        self._signed_in = True

    async def _search_signed_in(self, hashtag: str, checkpoint: str | None) -> Found:
        from atproto_client import exceptions as bluesky_errors

        if not self._signed_in:
            await self._sign_in()
            return await self._search(hashtag, checkpoint)
        try:
            return await self._search(hashtag, checkpoint)
        except bluesky_errors.RequestErrorBase as error:
            if not _session_over(error):
                raise
        # The session ended on Bluesky's side before its time: refresh it (atproto refreshes
        # by itself only by the token's own clock), or, that refused too, sign in again. Once.
        try:
            await self._client._refresh_and_set_session()
        except bluesky_errors.RequestErrorBase as error:
            if not _session_over(error):
                raise
            await self._sign_in()
        return await self._search(hashtag, checkpoint)

    async def _search(self, hashtag: str, checkpoint: str | None) -> Found:
        posts: list[Post] = []
        cursor = None
        for _ in range(BLUESKY_PAGES):
            params = {"q": f"#{hashtag}", "tag": [hashtag], "sort": "latest", "limit": 100}
            page = await self._client.app.bsky.feed.search_posts(
                {**params, "since": checkpoint, "cursor": cursor}
            )
            posts += [self._post(view) for view in page.posts]
            cursor = page.cursor
            if not cursor or not page.posts:
                break
        newest = max((post.created_at for post in posts), default=None)
        return Found(posts, newest or checkpoint)

    def _post(self, view: PostView) -> Post:
        record = view.record
        handle = view.author.handle
        rkey = view.uri.rsplit("/", 1)[-1]
        # searchPosts sorts and filters on sortAt: the earlier of createdAt and indexedAt.
        created = min(
            parse_time(getattr(record, "created_at", view.indexed_at)), parse_time(view.indexed_at)
        )
        return Post(
            post_id=view.uri,
            author=f"@{handle}",
            text=getattr(record, "text", ""),
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
            created_at=stamp(created),
            likes=view.like_count or 0,
            reposts=view.repost_count or 0,
            replies=view.reply_count or 0,
            quotes=view.quote_count or 0,
            source=self.name,
        )

    async def aclose(self) -> None:
        await self._client.request.close()


@dataclass
class Sources:
    x: XSource | None = None
    bluesky: BlueskySource | None = None

    def names(self) -> list[str]:
        """The sources set up: "x", "bluesky" (these fields' names, as each source's `name`)."""
        return [item.name for item in fields(self) if getattr(self, item.name) is not None]

    def only(self, name: str) -> Sources:
        """The source named `name` alone."""
        return Sources(**{name: getattr(self, name)})

    async def aclose(self) -> None:
        for source in (self.x, self.bluesky):
            if source is not None:
                await source.aclose()


def build_sources(settings: Settings) -> Sources:
    """The sources the settings configure; open once at start-up, `aclose()` at shutdown."""
    x = None
    if settings.x_bearer_token:
        x = XSource(settings.x_bearer_token.get_secret_value(), str(settings.x_api_url))
    bluesky = None
    if settings.bluesky_enabled:
        bluesky = BlueskySource(
            settings.bluesky_handle,
            settings.bluesky_app_password.get_secret_value(),
            api_url=str(settings.bluesky_api_url),
        )
    return Sources(x, bluesky)


# --- polling -----------------------------------------------------------------------------------


class BudgetSpent(Exception):
    """The day's request budget for a metered source is used up."""


def _resume_key(source: str) -> str:
    return f"tracking.{source}.resume_at"


def _resume_at(storage: Storage, source: str) -> dt.datetime | None:
    value = storage.get_flag(_resume_key(source))
    return parse_time(value) if value else None


def rate_limit_resets(storage: Storage, sources: Sequence[str]) -> dict[str, dt.datetime]:
    """For each of `sources` paused by a 429, when its rate limit resets (UTC): the moment to
    ask it again, rather than at the next poll after that."""
    now = utcnow()
    resets = {source: _resume_at(storage, source) for source in sources}
    return {source: at for source, at in resets.items() if at and at > now}


def _allowance(settings: Settings, storage: Storage, source: Source, now: dt.datetime) -> float:
    """Requests this poll may use: what is left of today's budget, spread evenly over the polls
    left before midnight UTC."""
    if not source.metered:
        return math.inf
    made = storage.tracking_requests_made(source.name, now.date().isoformat())
    remaining = settings.x_daily_request_budget - made
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    polls_left = math.ceil((midnight - now) / dt.timedelta(minutes=settings.tracking_poll_minutes))
    return math.ceil(remaining / max(polls_left, 1)) if remaining > 0 else 0


def _stalest_first(storage: Storage, source: str, hashtags: Sequence[str]) -> list[str]:
    """Hashtags never refreshed first, then the longest ago, so a small budget rotates fairly."""
    refreshed = storage.tracking_refreshed_at(source)
    return sorted(hashtags, key=lambda tag: refreshed.get(tag, ""))


def _count_start(storage: Storage, source: str, hashtag: str, now: dt.datetime) -> dt.datetime:
    """Re-count from the last hour stored (it was partial), within X's seven-day window and
    no later than the hour of a minute ago (X refuses a start_time after its default end_time,
    now - 30 s)."""
    earliest = floor_hour(now - X_WINDOW) + dt.timedelta(hours=1)
    latest = floor_hour(now - dt.timedelta(minutes=1))
    last = storage.last_counted_hour(source, hashtag)
    start = max(parse_time(last), earliest) if last else earliest
    return min(start, latest)


async def _refresh(
    source: Source,
    hashtag: str,
    storage: Storage,
    report: PollReport,
    spend: Callable[[], None],
    now: dt.datetime,
) -> None:
    """Counts (when the source has them) and new posts for one hashtag; `spend` is called
    before each request."""
    if source.has_counts:
        spend()
        start = _count_start(storage, source.name, hashtag, now)
        counts = await _read(source.hourly_counts(hashtag, start))
        storage.save_hashtag_counts(
            source.name, hashtag, {stamp(hour): count for hour, count in counts.items()}
        )
    spend()
    found = await _read(source.search(hashtag, storage.tracking_checkpoint(source.name, hashtag)))
    report.new_posts += storage.save_hashtag_posts(
        source.name, hashtag, [post.row() for post in found.posts]
    )
    if found.posts and not source.has_counts:
        first = min(parse_time(post.created_at) for post in found.posts)
        storage.recount_hashtag_hours(
            source.name, hashtag, stamp(floor_hour(first))
        )
    storage.save_tracking_checkpoint(source.name, hashtag, found.checkpoint)


async def _read(answer: Awaitable[T]) -> T:
    """A source's answer within ANSWER_DEADLINE_SECONDS. One not in the shape the service
    documents (broken JSON, a field missing or of another type) is a SourceError like any other
    failure: reported once, not a traceback at every poll."""
    try:
        # The clients' timeouts bound each wait for a byte; an answer trickling in a byte at a
        # time would hold the poll, and with it every later poll, for ever.
        async with asyncio.timeout(ANSWER_DEADLINE_SECONDS):
            return await answer
    except TimeoutError as error:
        raise SourceError("network", "no answer in time") from error
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise SourceError("unexpected", type(error).__name__) from error


def _record_problem(storage: Storage, source: str, error: SourceError, report: PollReport) -> None:
    log.warning("Hashtag tracking: %s failed: %s %s", source, error.problem, error.detail)
    resume_at = error.resume_at
    if error.problem == "rate_limited":
        now = utcnow()
        resume_at = min(resume_at or now + DEFAULT_RATE_LIMIT_PAUSE, now + LONGEST_RATE_LIMIT_PAUSE)
        storage.set_flag(_resume_key(source), stamp(resume_at))
    ongoing = [row for row in storage.tracking_alerts() if row["source"] == source]
    new = storage.raise_tracking_alert(source, error.problem, error.detail)
    # One alert for an outage, however it shows itself from poll to poll (a 503, then no
    # answer at all); but a problem someone must fix is always said.
    if new and (not ongoing or error.problem in MUST_BE_FIXED):
        report.alerts.append(Alert(source, error.problem, error.detail, resume_at))


async def _poll_source(
    source: Source,
    hashtags: Sequence[str],
    settings: Settings,
    storage: Storage,
    report: PollReport,
) -> None:
    now = utcnow()
    resume_at = _resume_at(storage, source.name)
    if resume_at and now < resume_at:
        report.skipped[source.name] = "rate_limited"
        return
    allowance = _allowance(settings, storage, source, now)
    made = 0

    def spend() -> None:
        nonlocal made
        day = now.date().isoformat()
        budget = settings.x_daily_request_budget
        if source.metered and not storage.take_tracking_request(source.name, day, budget):
            raise BudgetSpent
        made += 1

    for hashtag in _stalest_first(storage, source.name, hashtags):
        if made >= allowance:
            break
        try:
            await _refresh(source, hashtag, storage, report, spend, now)
        except BudgetSpent:
            break
        except SourceError as error:
            # No retry and nothing more from this source until the next poll.
            _record_problem(storage, source.name, error, report)
            return
    if not made:
        report.skipped[source.name] = "budget"
        return
    # It answered every request: whatever was wrong is over, and may be reported again later.
    if storage.clear_tracking_alerts(source.name):
        report.recovered.append(source.name)
    storage.set_flag(_resume_key(source.name), None)


async def poll_once(
    settings: Settings,
    campaign: Campaign,
    storage: Storage,
    *,
    x_source: Source | None = None,
    bluesky_source: Source | None = None,
) -> PollReport:
    """Refresh counts and posts for every campaign hashtag from each source given (None: that
    source is off). Call every `settings.tracking_poll_minutes`; send `report.alerts` to
    organisers (each problem appears there once, however many polls it lasts), and
    `report.recovered` when it is over."""
    report = PollReport()
    for source in (x_source, bluesky_source):
        if source is not None:
            await _poll_source(source, campaign.all_hashtags, settings, storage, report)
    return report


# --- reading -----------------------------------------------------------------------------------


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def daily_volume(
    storage: Storage, days: int, *, today: dt.date | None = None
) -> dict[tuple[str, str, dt.date], int]:
    """Posts per (source, hashtag, UTC day) over the last `days` days, today included."""
    today = today or utcnow().date()
    first = today - dt.timedelta(days=days - 1)
    return {
        (row["source"], row["hashtag"], dt.date.fromisoformat(row["day"])): row["count"]
        for row in storage.hashtag_daily_counts(stamp(_midnight(first)))
        if dt.date.fromisoformat(row["day"]) <= today
    }


def day_change(storage: Storage, day: dt.date) -> list[DayChange]:
    """Each hashtag's volume on `day` per source against the day before, busiest first."""
    before = day - dt.timedelta(days=1)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    previous: dict[str, int] = defaultdict(int)
    for (source, hashtag, date), count in daily_volume(storage, 2, today=day).items():
        if date == day:
            counts[hashtag][source] = count
        elif date == before:
            previous[hashtag] += count
    changes = [
        DayChange(hashtag, counts.get(hashtag, {}), previous[hashtag])
        for hashtag in counts.keys() | previous.keys()
    ]
    return sorted(changes, key=lambda change: (-change.total, change.hashtag))


def top_posts(storage: Storage, since: dt.datetime, limit: int = 5) -> list[Post]:
    """The most engaged posts (likes + reposts + replies + quotes) created since `since`."""
    rows = storage.top_hashtag_posts(stamp(since), limit)
    return [Post(**{key: row[key] for key in Post.__dataclass_fields__}) for row in rows]


def active_alerts(storage: Storage) -> list[Alert]:
    """Problems still going on (for the digest; `poll_once` reports each once when it starts)."""
    return [
        Alert(
            row["source"],
            row["problem"],
            row["detail"],
            _resume_at(storage, row["source"]),
            parse_time(row["first_seen"]),
        )
        for row in storage.tracking_alerts()
    ]


@dataclass(frozen=True)
class Digest:
    """What the organisers' daily digest and the /trends caption report for one UTC day."""

    day: dt.date
    changes: Sequence[DayChange]  # each hashtag's day against the day before
    posts: Sequence[Post]  # the most engaged posts since midnight
    alerts: Sequence[Alert] = ()  # problems still going on
    next_poll: dt.datetime | None = None  # when the sources are asked again (UTC)


def digest(
    storage: Storage, day: dt.date, *, limit: int = 5, next_poll: dt.datetime | None = None
) -> Digest:
    """The digest for `day` from what is stored: its counts, its top `limit` posts and the
    problems still open; `next_poll` is when the regular poll runs next, if known."""
    posts = top_posts(storage, _midnight(day), limit)
    return Digest(day, day_change(storage, day), posts, active_alerts(storage), next_poll)
