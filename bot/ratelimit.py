"""Telegram's sending limits, kept as a promise, with answers to supporters first.

Telegram refuses (429) a bot that sends more than about 30 messages a second overall, or more
than about one a second in one private chat (twenty a minute in a group or channel); paid
broadcasts (`allow_paid_broadcast`) may go up to 1,000 a second. `RatePlan` decides, with the
clock passed in, which waiting request may start now:

- never more than `rate` requests in any window of one second (a sliding window, so no burst
  of twice the rate at the start, as a token bucket allows), and never more than 30 a second
  of requests that are not paid broadcasts; starts are spread evenly (1/rate apart), as a
  burst of a whole second's requests at once would queue for connections and arrive in an
  order Telegram could count against us;
- messages to one chat at least a second apart (three seconds for groups and channels);
- replies to supporters before bulk messages (broadcasts, daily prompts), which use the
  capacity replies leave; and among replies, the first message an update puts in its chat
  before the ones that follow it (in a rush of /start, everyone hears a first word before
  anyone their second); in each class, first come first served;
- after a 429, nothing until its retry_after has passed;
- a reply Telegram's servers refused (500, 502...) or that never left is tried again after a
  short pause, as such an outage usually passes in seconds (broadcasts retry their own sends).

`PriorityRateLimiter` puts the plan under python-telegram-bot's `BaseRateLimiter`, so every
request the bot makes goes through it. Bulk senders mark their requests with
`rate_limit_args=BULK`, or with a `Turn` to hear when each may start.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import heapq
import itertools
import logging
import math
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from telegram.constants import FloodLimit
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

logger = logging.getLogger(__name__)

REPLY, FOLLOW_UP, BULK = 0, 1, 2  # priorities: lower goes first
FREE_RATE = FloodLimit.MESSAGES_PER_SECOND  # 30: above it only paid broadcasts
PAID_RATE = FloodLimit.PAID_MESSAGES_PER_SECOND  # 1,000
PRIVATE_CHAT_INTERVAL = 1.0
GROUP_CHAT_INTERVAL = 60 / FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP  # 3 s
# Requests that put a new message into a chat; edits, deletions and chat actions do not.
# Raised by aiohttp (which bot.app.request sends through) before a byte of the request was
# written, so it cannot have reached Telegram: no free connection in time, connection refused,
# connecting timed out.
_NEVER_LEFT = (aiohttp.ConnectionTimeoutError, aiohttp.ClientConnectorError)
# Seconds before each new try of a reply that was not sent: 3.5 s in all, within a stop's 5 s.
NOT_SENT_PAUSES = (0.5, 1.0, 2.0)
_SEND_PREFIX = "send"
_NOT_A_MESSAGE = frozenset({"sendChatAction"})
_ALSO_MESSAGES = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})
# Whether the update being handled (each runs in a task of its own, see `new_update`) has put
# anything in its chat yet: a message or an edit. Unset outside updates (jobs, broadcasts).
_answered: contextvars.ContextVar[list[bool]] = contextvars.ContextVar("answered")
# How late a start may be and still keep its place in the even spacing (see Window.take): on a
# busy machine the event loop's timers fire tens of milliseconds late; at 1,000 a second the
# catching up is then a burst of at most 50, at 30 a second of two.
CATCH_UP_SECONDS = 0.05
# Forget chats quiet for this long, so a campaign's worth of supporters does not pile up.
_CHAT_MEMORY_LIMIT = 10_000


def is_message(endpoint: str) -> bool:
    """Whether a Bot API method puts a new message into the chat (and so counts against the
    chat's own limit)."""
    if endpoint in _ALSO_MESSAGES:
        return True
    return endpoint.startswith(_SEND_PREFIX) and endpoint not in _NOT_A_MESSAGE


def new_update() -> None:
    """An update's handling starts in this task: its first message or edit will be a reply,
    the messages after it follow-ups (`FOLLOW_UP`)."""
    _answered.set([False])


def reply_priority(endpoint: str) -> int:
    """REPLY for the request that first answers the update being handled (and for requests
    outside an update), FOLLOW_UP for the messages after it."""
    answered = _answered.get(None)
    if answered is None or endpoint in _NOT_A_MESSAGE:
        return REPLY
    if answered[0]:
        return FOLLOW_UP
    answered[0] = is_message(endpoint) or endpoint.startswith("edit")
    return REPLY


def chat_interval(chat_id: int | str) -> float:
    """Seconds between two messages to one chat: private chats have positive ids; groups,
    supergroups and channels negative ids or an @username."""
    if isinstance(chat_id, int) and chat_id > 0:
        return PRIVATE_CHAT_INTERVAL
    return GROUP_CHAT_INTERVAL


class Window:
    """At most `capacity` starts in any `period` seconds, each due `gap` after the one before:
    the start times of the last `capacity` requests, and when the next is due, say when the
    next may go."""

    def __init__(self, rate: float) -> None:
        self.capacity = max(1, math.floor(rate))
        self.period = self.capacity / rate
        self.gap = 1 / rate
        self.starts: deque[float] = deque()
        self.due = -math.inf

    def free_at(self, now: float) -> float:
        """The earliest moment, `now` or later, when one more request may start."""
        while self.starts and self.starts[0] + self.period <= now:
            self.starts.popleft()
        moment = max(now, self.due)
        if len(self.starts) < self.capacity:
            return moment
        return max(moment, self.starts[0] + self.period)

    def take(self, now: float) -> None:
        self.starts.append(now)
        # A start a little late (the event loop's timer fired late: a millisecond is a whole
        # gap at 1,000 a second) keeps its place: the next is due a gap after this one was,
        # else each late wake-up would slow the rate. After a longer lull, spacing starts
        # afresh, so no burst makes up for it.
        start = self.due if now - self.due <= CATCH_UP_SECONDS else now
        self.due = start + self.gap


@dataclass(frozen=True)
class Turn:
    """`rate_limit_args` for a bulk request whose sender wants to know when it may start:
    `started` is called at that moment (again if a 429 makes it wait for another turn)."""

    started: Callable[[], None]


@dataclass(order=True)
class Waiter:
    """One request waiting for its turn; ordered by priority, then arrival."""

    priority: int
    arrival: int
    chat_key: int | str | None = field(compare=False, default=None)  # set for messages only
    interval: float = field(compare=False, default=0.0)
    paid: bool = field(compare=False, default=False)
    future: asyncio.Future[None] | None = field(compare=False, default=None)


class RatePlan:
    """Which waiting requests may start, given the time. No clock of its own: every call says
    what time it is, so tests drive it step by step."""

    def __init__(
        self, rate: float, *, paid_broadcasts: bool = False, telegram_limits: bool = True
    ) -> None:
        """`rate`: messages per second overall; above 30 only with `paid_broadcasts` (raises
        ValueError otherwise, as Telegram would answer with 429s). `telegram_limits`: also
        keep Telegram's limits beyond the overall rate (one message a second per chat, 30 a
        second for what is not a paid broadcast); off only under a fake Bot API without them,
        where they would only make tests wait."""
        if rate > FREE_RATE and not paid_broadcasts:
            raise ValueError(f"a rate above {FREE_RATE}/s needs paid broadcasts")
        self.overall = Window(min(rate, PAID_RATE))
        self.free = Window(min(rate, FREE_RATE) if telegram_limits else rate)
        self.telegram_limits = telegram_limits
        self.chat_free_at: dict[int | str, float] = {}
        self.paused_until = 0.0
        self.waiting: list[Waiter] = []
        self._arrivals = itertools.count()

    def add(
        self,
        priority: int,
        *,
        chat_id: int | str | None = None,
        message: bool = False,
        paid: bool = False,
        future: asyncio.Future[None] | None = None,
    ) -> Waiter:
        """Queue a request to `chat_id`; `message` when it puts a new message in the chat."""
        paced = message and chat_id is not None and self.telegram_limits
        waiter = Waiter(
            priority,
            next(self._arrivals),
            chat_id if paced else None,
            chat_interval(chat_id) if paced else 0.0,
            paid,
            future,
        )
        heapq.heappush(self.waiting, waiter)
        return waiter

    def pause(self, until: float) -> None:
        """Telegram said 429: nothing starts before `until`."""
        self.paused_until = max(self.paused_until, until)

    def ready_at(self, waiter: Waiter, now: float, *, chat: bool = True) -> float:
        """When `waiter` could start if nothing else went first (leaving out its chat's own
        limit if not `chat`)."""
        moment = max(now, self.paused_until, self.overall.free_at(now))
        if not waiter.paid:
            moment = max(moment, self.free.free_at(now))
        if chat and waiter.chat_key is not None:
            moment = max(moment, self.chat_free_at.get(waiter.chat_key, now))
        return moment

    def start(self, now: float) -> tuple[list[Waiter], float | None]:
        """Take every request that may start at `now`, best first. Returns them, and when the
        next one could (None when nobody waits). A request held only by its own chat's limit
        does not hold up the others; a less urgent one does not take the place a more urgent
        one, held by the bot's limits (with paid broadcasts, a reply under the 30 a second), is
        about to need."""
        started: list[Waiter] = []
        held: list[Waiter] = []
        next_at: float | None = None
        # By priority: the soonest a request held by the bot's limits (not its chat's) may start.
        soonest: dict[int, float] = {}
        while self.waiting:
            waiter = heapq.heappop(self.waiting)
            if waiter.future is not None and waiter.future.done():
                continue  # its caller gave up (cancelled)
            moment = self.ready_at(waiter, now)
            urgent = min(
                (at for priority, at in soonest.items() if priority < waiter.priority),
                default=math.inf,
            )
            if moment <= now < urgent <= now + self.overall.gap:
                moment = urgent
            if moment > now:
                held.append(waiter)
                next_at = moment if next_at is None else min(next_at, moment)
                if moment == self.ready_at(waiter, now, chat=False):
                    soonest[waiter.priority] = min(soonest.get(waiter.priority, math.inf), moment)
                if moment == max(now, self.paused_until, self.overall.free_at(now)):
                    break  # the whole bot is at its limit: nobody else can go either
                continue
            self._take(waiter, now)
            started.append(waiter)
        for waiter in held:
            heapq.heappush(self.waiting, waiter)
        return started, next_at

    def _take(self, waiter: Waiter, now: float) -> None:
        self.overall.take(now)
        if not waiter.paid:
            self.free.take(now)
        if waiter.chat_key is not None:
            self.chat_free_at[waiter.chat_key] = now + waiter.interval
            if len(self.chat_free_at) > _CHAT_MEMORY_LIMIT:
                self.chat_free_at = {
                    key: moment for key, moment in self.chat_free_at.items() if moment > now
                }


class PriorityRateLimiter(BaseRateLimiter[int | Turn]):
    """python-telegram-bot's hook for pacing requests, backed by a `RatePlan` on the event
    loop's clock. Requests without a chat (getUpdates, answerCallbackQuery, getMe) are not
    held: Telegram does not count them, and a button must be answered within seconds.

    `rate_limit_args`: `BULK` or a `Turn` for broadcasts and daily prompts; anything else is a
    reply (or a follow-up: `reply_priority`).
    A 429 pauses every request for its retry_after, then the request is tried again, at most
    `max_retries` times before the RetryAfter reaches the caller. A reply or follow-up (not a
    chat action) that was provably not sent (`not_sent`) is tried again after each of
    NOT_SENT_PAUSES before its NetworkError reaches the caller; a bulk message's sender
    decides for itself. After `stop`,
    no request waits out a 429: a pause can last minutes, and a stop must not (D11).
    """

    def __init__(
        self,
        rate: float,
        *,
        paid_broadcasts: bool = False,
        telegram_limits: bool = True,
        max_retries: int = 3,
    ) -> None:
        """`rate`, `paid_broadcasts` and `telegram_limits` as for `RatePlan`."""
        self.plan = RatePlan(rate, paid_broadcasts=paid_broadcasts, telegram_limits=telegram_limits)
        self.max_retries = max_retries
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self.stopping = False

    async def initialize(self) -> None:
        """Nothing to open."""

    def stop(self) -> None:
        """The bot is stopping: every request waiting out a 429 fails now with the RetryAfter
        (the seconds left of the pause), and so does any request that meets one from now on."""
        self.stopping = True
        for waiter in self.plan.waiting:
            refusal = self._pause_refusal()
            if refusal is None:
                return
            if waiter.future is not None and not waiter.future.done():
                waiter.future.set_exception(refusal)

    def _pause_refusal(self) -> RetryAfter | None:
        """The RetryAfter for the pause under way, if any."""
        left = self.plan.paused_until - asyncio.get_running_loop().time()
        return RetryAfter(dt.timedelta(seconds=math.ceil(left))) if left > 0 else None

    async def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict | list[dict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | Turn | None,
    ) -> bool | dict | list[dict]:
        chat_id = data.get("chat_id")
        if chat_id is None:
            return await callback(*args, **kwargs)
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        turn = rate_limit_args if isinstance(rate_limit_args, Turn) else None
        priority = BULK if turn or rate_limit_args == BULK else reply_priority(endpoint)
        message = is_message(endpoint)
        paid = bool(data.get("allow_paid_broadcast"))
        retries = 0
        # "typing…" is not worth a wait; a broadcast's engine retries its own sends.
        retried = priority != BULK and endpoint not in _NOT_A_MESSAGE
        pauses = iter(NOT_SENT_PAUSES if retried else ())
        while True:
            await self._turn(priority, chat_id, message, paid)
            if turn:
                turn.started()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if retries == self.max_retries or self.stopping:
                    raise
                retries += 1
                seconds = retry_seconds(error)
                logger.info("Telegram asked for a %.0f s pause", seconds)
                self.plan.pause(asyncio.get_running_loop().time() + seconds)
            except NetworkError as error:
                pause = next(pauses, None) if not_sent(error) else None
                if pause is None:
                    raise
                logger.info("Telegram did not take a %s (%s); trying again", endpoint, error)
                await asyncio.sleep(pause)

    async def _turn(self, priority: int, chat_id: int | str, message: bool, paid: bool) -> None:
        """Wait until the plan lets this request start; raises RetryAfter when stopping in a
        pause."""
        if self.stopping and (refusal := self._pause_refusal()):
            raise refusal
        future = asyncio.get_running_loop().create_future()
        self.plan.add(priority, chat_id=chat_id, message=message, paid=paid, future=future)
        self._dispatch()
        await future

    def _dispatch(self) -> None:
        """Start whatever may start now; wake up again when the next one may."""
        loop = asyncio.get_running_loop()
        started, next_at = self.plan.start(loop.time())
        for waiter in started:
            waiter.future.set_result(None)
        if next_at is None or next_at == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = next_at
        self._timer = loop.call_at(next_at, self._wake)

    def _wake(self) -> None:
        self._timer = self._timer_at = None
        self._dispatch()


def not_sent(error: NetworkError) -> bool:
    """Whether a request that failed provably did not reach Telegram, for a reason that can
    pass, so sending it again may work and cannot make a duplicate: the Bot API (or a proxy in
    front of it) answered with a server error such as 500 or 502, or the request never left
    (`_NEVER_LEFT`). Not a refusal of the request itself (400: it would be refused again), nor
    a timeout otherwise, which is "unknown" (D2). An answer carries no cause, or the parse
    error of an unreadable body; another transport failure carries the HTTP client's."""
    cause = error.__cause__
    if isinstance(cause, _NEVER_LEFT):
        return True
    if isinstance(error, TimedOut | BadRequest):
        return False
    return cause is None or isinstance(cause, TelegramError)


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, in seconds."""
    # PTB 22 warns that retry_after is becoming a timedelta; accept either.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry_after = error.retry_after
    if isinstance(retry_after, dt.timedelta):
        return retry_after.total_seconds()
    return float(retry_after)
