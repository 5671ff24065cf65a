"""Resumable delivery of one message to many supporters: organiser broadcasts and daily prompts.

Every recipient gets a row in `deliveries` before anything is sent and every send's outcome is
written back to it, so a run can stop at any point (kill -9, restart, cancel) and carry on where
it was. Telegram has no idempotency key, so the promise is: nobody missed, and at most one
duplicate per send in flight when the process died. In flight means claimed ('sending') but not
yet recorded; two batches bound it, and a batch is about a second of sending at the configured
rate (`batch_size_for`). The next batch is claimed as soon as every send of the one before has
had its turn under the rate limiter, so the rate limiter never runs dry while the last answers
of a batch come back (at 1,000 a second that gap cost a tenth of the rate); supporters' replies
go before both.

Outcomes: sent; blocked (403: the supporter is marked blocked and never retried); failed (400 or
another refusal: recorded, the run goes on); unknown (a timeout or network error after the request
may have left: Telegram may have delivered it, so it is not retried); skipped (at send time no
longer agreed to this kind of message, or over the daily cap: bot.consent.Rules). A definite "not
sent" puts the recipient back in the queue: a 429 that gets past the bot's rate limiter stops every
send for its retry_after; a server error (5xx) or a request that provably never left (no free
connection, connection refused) pauses the run, longer each time, so an outage of Telegram's servers
delays the broadcast and loses nobody.

Every send is a bulk request for the rate limiter (`bot.ratelimit.Turn`), so supporters' replies
go first, and carries `allow_paid_broadcast` when paid broadcasts are switched on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import math
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

from bot.campaign import DEFAULT_LANGUAGE
from bot.consent import (
    BROADCAST_KIND,
    DAILY_KIND,
    FOLLOWUP_KIND,
    NOTICE_KIND,
    REMINDER_KIND,
    Rules,
)
from bot.progress import same_journey
from bot.ratelimit import Turn, not_sent, retry_seconds
from bot.storage import Storage, supporters, utcnow
from bot.storage.broadcasts import DAILY_CAP, Selection
from bot.storage.lobby import COVERED, NOT_GOING, NOW_GOING, STOPPED

logger = logging.getLogger(__name__)

# Which consent each needs, and whether the daily cap applies: bot.consent.Rules.
KINDS = (BROADCAST_KIND, DAILY_KIND, REMINDER_KIND, NOTICE_KIND, FOLLOWUP_KIND)
# A broadcast started and not ended: its recipients being written, then their messages sent.
PREPARING, RUNNING = "preparing", "running"
UNDER_WAY = (PREPARING, RUNNING)
# A broadcast an organiser stopped before it ended: whoever was still pending gets nothing.
CANCELLED = "cancelled"
# A recipient's delivery: waiting, claimed and in flight, then its outcome.
PENDING, SENDING = "pending", "sending"
SENT, BLOCKED, FAILED, UNKNOWN, SKIPPED = (
    "sent",
    "blocked",
    "failed",
    "unknown",
    "skipped",
)
OUTCOMES = (SENT, BLOCKED, FAILED, UNKNOWN, SKIPPED)
# Why a recipient was skipped at their turn besides having said no to this kind of message
# (UNSUBSCRIBED) or the daily cap, in the order the organiser's report says them: blocked the
# bot (found by another message), or no longer in the lobby-day audience the message was for.
SKIPPED_BLOCKED = supporters.BLOCKED
SKIP_REASONS = (SKIPPED_BLOCKED, NOT_GOING, STOPPED, NOW_GOING, COVERED)
MAX_BATCH_SIZE = 200
DEFAULT_BATCH_SIZE = 25  # batch_size_for(settings.broadcast_rate) at the default rate
PROGRESS_EVERY_SECONDS = 2.0
# Supporters whose recipients one slice of a broadcast's preparation writes: at 100,000
# supporters a slice holds the event loop for a few milliseconds, and it stays that size however
# many supporters there are (bench/bench_database.py).
PREPARE_SLICE = 5000
# A slice writes at most about 130 pages (5,000 deliveries), so the WAL is folded into the file
# (Storage.fold_wal) every few slices, off the loop, before it reaches SQLite's 1,000 pages.
FOLD_WAL_EVERY = 4
MAX_NETWORK_PAUSE_SECONDS = 60.0
# No link previews, as in everything the bot sends (bot/app/build.py's Defaults, which
# do_api_request does not apply). As the Bot API's JSON: a LinkPreviewOptions would be merged
# with the Defaults' into a new object, then converted, at each call.
NO_LINK_PREVIEW = {"is_disabled": True}
# do_api_request warns when called with a method that has a shortcut; here that is the point.
_BY_NAME = r"Please use 'Bot\.(send|edit)\w+' instead of 'Bot\.do_api_request"
warnings.filterwarnings("ignore", _BY_NAME, PTBUserWarning)


def batch_size_for(rate: float) -> int:
    """About one second of sending at `rate` messages per second, capped at MAX_BATCH_SIZE."""
    return max(1, min(MAX_BATCH_SIZE, math.ceil(rate)))


@dataclass
class Sending:
    """How this process delivers: batches of about a second at the configured rate, as paid
    broadcasts or not, and the runs under way, so that a shutdown can stop them all."""

    batch_size: int = DEFAULT_BATCH_SIZE
    paid_broadcasts: bool = False
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    runs: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def at_rate(cls, rate: float, *, paid_broadcasts: bool = False) -> Sending:
        return cls(batch_size_for(rate), paid_broadcasts)

    async def stop(self, grace: float) -> None:
        """Stop every run once its batches in flight are recorded; after `grace` seconds cancel
        the runs still going (waiting out a 429 or an outage): their claimed rows stay in
        flight and are sent at the next start. Runs stay 'running', to be resumed then."""
        self.stopping.set()
        if not self.runs:
            return
        _, late = await asyncio.wait(set(self.runs), timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)


@dataclass(frozen=True)
class Audience:
    """Who a broadcast is for. Each field narrows it; the empty audience is every eligible
    supporter (opted in, not blocked). Action fields name kinds in the actions table; a lobby
    event narrows to one of the audiences around it (`lobby_reach`: bot.lobby's GOING_AUDIENCE,
    UNCOVERED_AUDIENCE, NOT_GOING_AUDIENCE or STILL_GOING_AUDIENCE)."""

    languages: tuple[str, ...] = ()
    done_action: str | None = None
    missing_action: str | None = None
    constituency_code: str | None = None
    lobby_event: int | None = None
    lobby_reach: str | None = None
    # Those whose "Did your MP reply?" the broadcast asks: its own recipients (mp_followups'
    # broadcast_id), chosen by `enqueue`, not countable beforehand.
    mp_followups: bool = False

    def selection(self, consent: str | None, broadcast_id: int | None = None) -> Selection:
        """Its recipients among those who said yes to `consent`, for the storage queries that
        choose them; `broadcast_id` is the broadcast's own, which asks the follow-ups of an
        `mp_followups` audience. An action stands for its whole journey, as on the supporter's
        checklist (bot.progress)."""
        return Selection(
            consent,
            languages=self.languages,
            done_actions=_journey(self.done_action),
            missing_actions=_journey(self.missing_action),
            constituency_code=self.constituency_code,
            lobby=(self.lobby_event, self.lobby_reach) if self.lobby_event else None,
            followups_of=broadcast_id if self.mp_followups else None,
        )

    def as_dict(self) -> dict[str, object]:
        values = {
            "languages": list(self.languages),
            "done_action": self.done_action,
            "missing_action": self.missing_action,
            "constituency_code": self.constituency_code,
            "lobby_event": self.lobby_event,
            "lobby_reach": self.lobby_reach,
            "mp_followups": self.mp_followups,
        }
        return {name: value for name, value in values.items() if value}

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> Audience:
        return cls(
            languages=tuple(values.get("languages") or ()),
            done_action=values.get("done_action"),
            missing_action=values.get("missing_action"),
            constituency_code=values.get("constituency_code"),
            lobby_event=values.get("lobby_event"),
            lobby_reach=values.get("lobby_reach"),
            mp_followups=bool(values.get("mp_followups")),
        )


def _journey(action: str | None) -> tuple[str, ...]:
    return tuple(sorted(same_journey(action))) if action else ()


def reach(
    storage: Storage,
    audience: Audience,
    rules: Rules,
    kind: str = "broadcast",
    at: dt.datetime | None = None,
) -> int:
    """How many people a broadcast of `kind` to `audience` would reach if it started `at` (now
    by default) with today's supporters: those who agreed to its kind of message then (`rules`:
    after the campaign, to what comes next), narrowed by the audience."""
    consent = rules.subject_for(kind, at or utcnow())
    return storage.count_audience(audience.selection(consent))


def held_back(storage: Storage, audience: Audience, rules: Rules, kind: str = "broadcast") -> int:
    """Of those `reach` counts now, how many the daily cap would hold back from a broadcast of
    `kind` started now: they have had `rules.daily_cap` such messages today already."""
    if not rules.capped(kind):
        return 0
    now = utcnow()
    consent = rules.subject_for(kind, now)
    return storage.count_capped(
        kind, rules.daily_cap, rules.day_start(now), audience.selection(consent)
    )


def known_total(broadcast: Mapping[str, Any]) -> int | None:
    """How many recipients a stored broadcast has, once they are all written; None before
    (draft, scheduled, preparing: the `total` column then counts those written so far), and
    for one cancelled before they were (`Storage.cancel_broadcast` leaves its total NULL)."""
    if broadcast["status"] in ("draft", "scheduled", PREPARING):
        return None
    return broadcast["total"]


@dataclass(frozen=True)
class LinkButton:
    label: str
    url: str


def link_keyboard(*buttons: LinkButton) -> InlineKeyboardMarkup:
    """Link buttons one under another: how a prompt or a broadcast carries its buttons."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(button.label, url=button.url)] for button in buttons]
    )


@dataclass(frozen=True)
class ProgressSnapshot:
    broadcast_id: int
    sent: int
    failed: int
    blocked: int
    unknown: int
    skipped: int
    total: int
    rate: float  # recipients handled per second in this run
    seconds_left: float | None  # None until a rate is known

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.blocked + self.unknown + self.skipped


@dataclass(frozen=True)
class DeliveryReport:
    broadcast_id: int
    status: str  # 'done', 'cancelled', or 'preparing' or 'running' if it stopped unfinished
    sent: int
    failed: int
    blocked: int
    unknown: int
    skipped: int
    capped: int  # of the skipped, those who had already had the day's broadcasts (the cap)
    not_sent: int  # still pending (a cancelled run) or in flight
    total: int | None  # None if it stopped before its recipients were all written (known_total)
    seconds: float  # this run's duration
    # Of the skipped, how many for each reason other than the cap (SKIP_REASONS, UNSUBSCRIBED).
    skipped_for: Mapping[str, int] = field(default_factory=dict)


ProgressCallback = Callable[[ProgressSnapshot], Awaitable[None]]


def create_broadcast(
    storage: Storage,
    *,
    texts: Mapping[str, str],
    audience: Audience = Audience(),
    kind: str = "broadcast",
    photo_file_id: str | None = None,
    buttons: Mapping[str, LinkButton] | None = None,
    keyboards: Mapping[str, InlineKeyboardMarkup] | None = None,
    created_by: int | None = None,
    scheduled_for: dt.datetime | None = None,
    campaign_day: int | None = None,
) -> int:
    """Store a broadcast (Telegram-HTML `texts` by language, English required as the fallback)
    with a link button (`buttons`) or a whole keyboard (`keyboards`) by language; nothing is
    sent until `run_broadcast`. Returns its id."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if not texts.get(DEFAULT_LANGUAGE):
        raise ValueError(f"texts need a {DEFAULT_LANGUAGE!r} version to fall back on")
    return storage.create_broadcast(
        kind=kind,
        texts=dict(texts),
        audience=audience.as_dict(),
        buttons=_stored_buttons(buttons, keyboards),
        photo_file_id=photo_file_id,
        created_by=created_by,
        scheduled_for=scheduled_for,
        campaign_day=campaign_day,
    )


def attach_keyboards(
    storage: Storage, broadcast_id: int, keyboards: Mapping[str, InlineKeyboardMarkup]
) -> None:
    """Give a broadcast not yet started its keyboard by language: for buttons that name the
    broadcast, known once it is created (call in the same transaction)."""
    storage.set_broadcast_buttons(broadcast_id, _stored_buttons(None, keyboards))


def _stored_buttons(
    buttons: Mapping[str, LinkButton] | None, keyboards: Mapping[str, InlineKeyboardMarkup] | None
) -> dict[str, dict[str, Any]]:
    """A broadcast's buttons by language as stored: a link button or a whole keyboard."""
    return {
        **{lang: {"label": b.label, "url": b.url} for lang, b in (buttons or {}).items()},
        **{lang: markup.to_dict() for lang, markup in (keyboards or {}).items()},
    }


async def enqueue(
    storage: Storage, broadcast_id: int, rules: Rules, sending: Sending | None = None
) -> int | None:
    """Fix a draft or scheduled broadcast's recipients now, or finish fixing those of one a
    stopped process left preparing: its audience among those who agreed to its kind of message
    today, one pending delivery each, written inside SQLite a slice of supporters at a time
    (`Storage.prepare_deliveries`), letting the bot serve supporters between slices. Then it is
    running. Stops between slices when it is cancelled, or the process is stopping (`sending`),
    to carry on at the next start. Returns how many recipients it has, or None if it had
    already started or ended, or stopped before it was ready."""
    broadcast = storage.get_broadcast(broadcast_id)
    if broadcast is None:
        raise LookupError(f"no broadcast {broadcast_id}")
    if not storage.begin_deliveries(broadcast_id) and broadcast["status"] != PREPARING:
        return None
    consent = rules.subject_for(broadcast["kind"], utcnow())
    selection = Audience.from_dict(broadcast["audience"]).selection(consent, broadcast_id)
    for written in itertools.count():
        if written % FOLD_WAL_EVERY == 0:
            await asyncio.to_thread(storage.fold_wal)
        if not storage.prepare_deliveries(broadcast_id, selection, PREPARE_SLICE):
            break
        await asyncio.sleep(0)  # supporters' updates go between slices
        if sending is not None and sending.stopping.is_set():
            return None
        await storage.writable()
    ready = storage.get_broadcast(broadcast_id)
    return ready["total"] if ready["status"] == "running" else None


async def run_broadcast(
    bot: ExtBot,
    storage: Storage,
    broadcast_id: int,
    *,
    rules: Rules,
    sending: Sending | None = None,
    on_progress: ProgressCallback | None = None,
    progress_every: float = PROGRESS_EVERY_SECONDS,
) -> DeliveryReport:
    """Deliver a broadcast to everyone still waiting for it, then report.

    Starts a draft or scheduled broadcast, continues a running one, and returns at once for one
    that is done or cancelled. A cancel takes effect after the batches in flight; so does a
    shutdown (`Sending.stop`), which leaves the broadcast running, to be resumed at the next
    start. Pass the Application's bot (its rate limiter sets the pace) and the process's
    `Sending` (by default, batches for the default rate). `rules` say who may get it at the
    moment each message goes (consent by kind, the daily cap).
    """
    clock = time.monotonic()
    sending = sending or Sending()
    await enqueue(storage, broadcast_id, rules, sending)
    broadcast = storage.get_broadcast(broadcast_id)
    message = _Message(
        broadcast["texts"],
        broadcast["buttons"],
        broadcast["photo_file_id"],
        sending.paid_broadcasts,
    )
    audience = Audience.from_dict(broadcast["audience"])
    run = _Run(bot, storage, broadcast_id, message, rules, broadcast["kind"], audience)
    tally = _Tally(broadcast_id, storage, broadcast["total"] or 0, on_progress, progress_every)
    batches = asyncio.ensure_future(_send_batches(run, tally, sending))
    sending.runs.add(batches)
    try:
        await batches
    except asyncio.CancelledError:
        if not batches.cancelled() or asyncio.current_task().cancelling():
            raise  # this caller was cancelled, not the shutdown's doing
    finally:
        sending.runs.discard(batches)
    report = _report(storage, broadcast_id, time.monotonic() - clock)
    logger.info(
        "Broadcast %s %s: %s sent, %s blocked, %s failed, %s unknown, %s skipped of %s",
        report.broadcast_id,
        report.status,
        report.sent,
        report.blocked,
        report.failed,
        report.unknown,
        report.skipped,
        report.total,
    )
    return report


async def _send_batches(run: _Run, tally: _Tally, sending: Sending) -> None:
    """Claim and send batches until none is left, the broadcast is cancelled or the process is
    stopping; the next batch once every send of the one before has had its turn (see the
    module docstring), so at most two are in flight."""
    storage = run.storage
    earlier: asyncio.Future[None] | None = None  # the batch before, its last answers coming
    current: asyncio.Future[None] | None = None
    try:
        while storage.broadcast_status(run.broadcast_id) == RUNNING:
            if sending.stopping.is_set():
                break
            # Wait before claiming, so nothing sits 'sending' (in flight) through a pause.
            await run.pause.wait()
            await storage.writable()
            batch = storage.claim_deliveries(run.broadcast_id, sending.batch_size, run.cap())
            if not batch:
                if earlier is None:
                    storage.finish_broadcast(run.broadcast_id)
                    return
                # Its 429s and outages go back in the queue: claim again once it is recorded.
                earlier, current = None, earlier
                await current
                continue
            begun = asyncio.Event()
            current = asyncio.ensure_future(_send_and_count(run, tally, batch, begun))
            if earlier is not None:
                await earlier
            await _first_of(begun.wait(), current)
            earlier, current = current, None
        if earlier is not None:
            await earlier
    finally:
        unfinished = [batch for batch in (earlier, current) if batch and not batch.done()]
        for batch in unfinished:
            batch.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)


async def _send_and_count(
    run: _Run, tally: _Tally, batch: list[tuple[int, str]], begun: asyncio.Event
) -> None:
    await tally.add(await run.send_batch(batch, begun))


async def _first_of(waiting: Coroutine[Any, Any, Any], batch: asyncio.Future[None]) -> None:
    """Until `waiting` is done or `batch` is over (raising what the batch raised)."""
    waiter = asyncio.ensure_future(waiting)
    try:
        await asyncio.wait({waiter, batch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if batch.done():
        batch.result()


def requeue_unfinished(storage: Storage) -> list[int]:
    """At start, before this process sends anything: the broadcasts a previous process left
    running, their rows still 'sending' put back to pending. Those were in flight when it died
    and will be sent again: this is where the (bounded) duplicates come from."""
    unfinished = storage.running_broadcasts()
    for broadcast_id in unfinished:
        in_flight = storage.requeue_in_flight(broadcast_id)
        logger.info("Resuming broadcast %s; %s sends were in flight", broadcast_id, in_flight)
    return unfinished


# --- one batch ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Message:
    texts: Mapping[str, str]
    buttons: Mapping[str, Mapping[str, str]]
    photo_file_id: str | None
    paid: bool

    def text(self, language: str) -> str:
        return self.texts.get(language) or self.texts[DEFAULT_LANGUAGE]

    def markup(self, language: str) -> InlineKeyboardMarkup | None:
        button = self.buttons.get(language) or self.buttons.get(DEFAULT_LANGUAGE)
        if not button:
            return None
        if "inline_keyboard" in button:
            return InlineKeyboardMarkup.de_json(dict(button), None)
        return link_keyboard(LinkButton(button["label"], button["url"]))

    async def send(self, bot: ExtBot, chat_id: int, language: str, turn: Turn) -> int:
        """Send it in `language` (or the fallback), behind supporters' replies (`turn` hears
        when it may start); returns the message id.

        Through `call_telegram`: a whole Message built from Telegram's answer would be a fifth
        of the CPU a broadcast message costs (bench/bench_delivery.py)."""
        params: dict[str, object] = {
            "chat_id": chat_id,
            "parse_mode": ParseMode.HTML,
            "reply_markup": self.markup(language),
        }
        if self.photo_file_id:
            method = "sendPhoto"
            params |= {"photo": self.photo_file_id, "caption": self.text(language)}
        else:
            method = "sendMessage"
            params |= {"text": self.text(language), "link_preview_options": NO_LINK_PREVIEW}
        if self.paid:
            params["allow_paid_broadcast"] = True
        sent = await call_telegram(bot, method, params, rate_limit_args=turn)
        return sent["message_id"]


async def call_telegram(
    bot: ExtBot, method: str, params: Mapping[str, object], *, rate_limit_args: object = None
) -> Any:
    """Call the Bot API `method` (sendMessage, editMessageText...) with `params` (those None
    left out), and return Telegram's answer as it came, a dict for a message.

    The typed methods (send_message...) would build a whole Message from that answer, about a
    third of the CPU a call costs, where the bot only reads its id. No Defaults are added: pass
    parse_mode and the like. Telegram's refusals raise the same errors as from the typed
    methods."""
    try:
        return await bot.do_api_request(
            method,
            {key: value for key, value in params.items() if value is not None},
            rate_limit_args=rate_limit_args,
        )
    except EndPointNotFound as error:
        # The method exists, so Telegram refused the token, as the typed method would say.
        raise InvalidToken(error.message) from error


@dataclass(frozen=True)
class _Outcome:
    user_id: int
    status: str  # one of OUTCOMES, or PENDING to go back in the queue
    message_id: int | None = None
    error: str | None = None

    def as_row(self) -> tuple[int, str, int | None, str | None]:
        return self.user_id, self.status, self.message_id, self.error


class _Pause:
    """The moment before which nothing is sent: a 429's retry_after, or a network back-off."""

    def __init__(self) -> None:
        self.until = 0.0
        self._backoff = 0.0

    def hold(self, seconds: float) -> None:
        self.until = max(self.until, time.monotonic() + seconds)

    def back_off(self) -> None:
        """The network is down: pause 1 s, then twice as long each time it still is."""
        if time.monotonic() < self.until:
            return  # another send of this batch already paused us
        self._backoff = min(max(self._backoff * 2, 1.0), MAX_NETWORK_PAUSE_SECONDS)
        self.hold(self._backoff)

    def recovered(self) -> None:
        self._backoff = 0.0

    async def wait(self) -> None:
        while (left := self.until - time.monotonic()) > 0:
            await asyncio.sleep(left)


class _Run:
    """One broadcast being delivered by this process."""

    def __init__(
        self,
        bot: ExtBot,
        storage: Storage,
        broadcast_id: int,
        message: _Message,
        rules: Rules,
        kind: str,
        audience: Audience,
    ) -> None:
        self.bot = bot
        self.storage = storage
        self.broadcast_id = broadcast_id
        self.message = message
        self.rules = rules
        self.kind = kind
        # Whether someone is still going to a lobby day is checked again at send time too: a
        # yes cancelled meanwhile ends its reminders at once; so is whether a follow-up is still
        # owed its question.
        self.lobby = audience.selection(None).lobby
        self.followups_of = broadcast_id if audience.mp_followups else None
        self.pause = _Pause()

    def cap(self) -> tuple[int, dt.datetime] | None:
        """The daily cap to claim the next batch under (None for the daily prompt)."""
        if not self.rules.capped(self.kind):
            return None
        return self.rules.daily_cap, self.rules.day_start(utcnow())

    async def send_batch(
        self, batch: list[tuple[int, str]], begun: asyncio.Event | None = None
    ) -> list[_Outcome]:
        """Send a claimed batch (the bot's rate limiter paces it), then write every outcome in
        one transaction; if this task is cancelled, the outcomes already known. `begun` is set
        once every send has had its turn under the rate limiter."""
        waiting = {user_id for user_id, _ in batch}

        def started(user_id: int) -> None:
            waiting.discard(user_id)
            if not waiting and begun is not None:
                begun.set()

        tasks = [
            asyncio.create_task(self.deliver(user_id, language, Turn(partial(started, user_id))))
            for user_id, language in batch
        ]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # Don't leave the rest of the batch sending unsupervised: their rows stay in
            # flight and go out again when the broadcast resumes.
            for task in tasks:
                task.cancel()
            raise
        finally:
            outcomes = [
                task.result()
                for task in tasks
                if task.done() and not task.cancelled() and task.exception() is None
            ]
            await self.storage.writable()
            self.storage.record_deliveries(
                self.broadcast_id, [outcome.as_row() for outcome in outcomes]
            )
        return outcomes

    async def deliver(self, user_id: int, language: str, turn: Turn) -> _Outcome:
        """One recipient: re-check their consent to this kind of message (and their yes to a
        lobby day it is about) at send time, send, classify the result. `turn` hears when the
        send may start (at once if it is skipped)."""
        await self.pause.wait()
        consent = self.rules.subject_for(self.kind, utcnow())
        refusal = self.storage.refusal(user_id, consent, self.lobby, self.followups_of)
        if refusal:
            turn.started()
            return _Outcome(user_id, SKIPPED, error=refusal)
        try:
            message_id = await self.message.send(self.bot, user_id, language, turn)
        except InvalidToken:
            # The token was revoked: nothing can succeed, so stop here rather than fail everyone.
            # The batch stays in flight and is sent again after a restart with a good token.
            raise
        except Forbidden as error:
            return _Outcome(user_id, BLOCKED, error=error.message)
        except RetryAfter as error:
            self.pause.hold(retry_seconds(error))
            return _Outcome(user_id, PENDING, error=error.message)
        except BadRequest as error:
            return _Outcome(user_id, FAILED, error=error.message)
        except NetworkError as error:  # TimedOut included
            if not_sent(error):
                self.pause.back_off()
                return _Outcome(user_id, PENDING, error=error.message)
            return _Outcome(user_id, UNKNOWN, error=error.message)
        except TelegramError as error:
            return _Outcome(user_id, FAILED, error=error.message)
        except Exception as error:
            # A bug must not stop a campaign-wide send: record it against this recipient, go on.
            logger.exception("Unexpected error delivering a broadcast message")
            return _Outcome(user_id, FAILED, error=type(error).__name__)
        self.pause.recovered()
        return _Outcome(user_id, SENT, message_id=message_id)


# --- progress and report -----------------------------------------------------------------------


class _Tally:
    """Counts per outcome for the whole broadcast (earlier runs included) and this run's rate;
    calls back with a snapshot at most every `every` seconds."""

    def __init__(
        self,
        broadcast_id: int,
        storage: Storage,
        total: int,
        callback: ProgressCallback | None,
        every: float,
    ) -> None:
        self.broadcast_id = broadcast_id
        self.counts = Counter(storage.broadcast_summary(broadcast_id))
        self.total = total
        self.callback = callback
        self.every = every
        self.started = self.last_call = time.monotonic()
        self.handled = 0

    async def add(self, outcomes: list[_Outcome]) -> None:
        for outcome in outcomes:
            if outcome.status != PENDING:
                self.counts[outcome.status] += 1
                self.handled += 1
        now = time.monotonic()
        if self.callback is None or now - self.last_call < self.every:
            return
        self.last_call = now
        try:
            await self.callback(self.snapshot(now))
        except Exception:
            # Progress is a courtesy to the organiser; delivery must go on without it.
            logger.exception("Broadcast progress callback failed")

    def snapshot(self, now: float) -> ProgressSnapshot:
        elapsed = now - self.started
        rate = self.handled / elapsed if elapsed > 0 else 0.0
        left = max(self.total - sum(self.counts[status] for status in OUTCOMES), 0)
        return ProgressSnapshot(
            broadcast_id=self.broadcast_id,
            sent=self.counts[SENT],
            failed=self.counts[FAILED],
            blocked=self.counts[BLOCKED],
            unknown=self.counts[UNKNOWN],
            skipped=self.counts[SKIPPED],
            total=self.total,
            rate=rate,
            seconds_left=left / rate if rate else None,
        )


def _report(storage: Storage, broadcast_id: int, seconds: float) -> DeliveryReport:
    counts = Counter(storage.broadcast_summary(broadcast_id))
    broadcast = storage.get_broadcast(broadcast_id)
    skipped_for = storage.skip_reasons(broadcast_id)
    return DeliveryReport(
        broadcast_id=broadcast_id,
        status=broadcast["status"],
        sent=counts[SENT],
        failed=counts[FAILED],
        blocked=counts[BLOCKED],
        unknown=counts[UNKNOWN],
        skipped=counts[SKIPPED],
        capped=skipped_for.pop(DAILY_CAP, 0),
        not_sent=counts[PENDING] + counts[SENDING],
        total=known_total(broadcast),
        seconds=seconds,
        skipped_for=skipped_for,
    )
