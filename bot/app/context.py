"""The typed context every callback receives, and the long-lived services it carries.

Services are born in one place (`bot.app.build.post_init`) and closed in one place
(`post_shutdown`); handlers and jobs only use them. Values that live for one update are
declared on `Context`, so nothing is patched onto the context on the fly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.consent import Rules

if TYPE_CHECKING:
    import httpx

    from bot.campaign import Campaign
    from bot.config import Settings
    from bot.delivery import DeliveryReport, Sending
    from bot.flood import FloodGate
    from bot.petition import PetitionCounter
    from bot.storage import Storage
    from bot.tracking import Sources


# The user_data key stamping when a supporter last touched one of their drafts.
DRAFT_STAMP = "draft_at"
# The user_data key naming the screen the bot last showed a person, for the few screens where a
# typed answer means something outside any step (the MP intro takes a postcode). Set by the
# journey, cleared by every message the bot shows them (`handlers.common`); kept with the
# rest of user_data, so a restart between the screen and the answer changes nothing.
SCREEN = "screen"

T = TypeVar("T")


class BotStopping(Exception):
    """The bot was told to stop (SIGTERM, Ctrl-C) while waiting for something that can wait."""


class BotData:
    """Services shared by all handlers and jobs.

    PTB instantiates this without arguments; `build_application` sets settings, campaign and
    token_refused, `post_init` opens everything else.
    """

    settings: Settings
    campaign: Campaign
    # Set once Telegram no longer takes the bot's token for getUpdates (revoked with
    # @BotFather while it polls: `bot.app.updates`): nothing can work any more, so the bot
    # stops and says so (`bot.app.cli.serve`).
    token_refused: asyncio.Event
    storage: Storage
    # Where requests to outside services go instead of the network, when set: sample data
    # (`stepup-bot try --sample-data`) or a test's fake.
    lookups: httpx.AsyncBaseTransport | None
    # Requests to outside services (postcodes.io, the Members API, the petition's JSON), each
    # one's outcome recorded by bot.outages.
    http: httpx.AsyncClient
    flood_gate: FloodGate
    # One counter for the process, so every supporter shares its once-a-minute cache.
    petition_counter: PetitionCounter
    # The hashtag sources the settings configure (X, Bluesky, either or none).
    tracking: Sources
    # Never two daily runs at once (the prompt time, a catch-up, "send today's now").
    daily_lock: asyncio.Lock
    # Never two hashtag polls at once (the regular poll, a poll at a rate limit's reset).
    tracking_lock: asyncio.Lock
    # How this process delivers broadcasts and daily prompts (pace, paid or not), and its runs.
    sending: Sending
    # The broadcast runs under way in this process, by broadcast id: never two of one broadcast.
    broadcast_runs: dict[int, asyncio.Task[DeliveryReport]]

    def __init__(self) -> None:
        # Journey name -> the callback that opens it (from the menu or a deep link).
        self.journeys: dict[str, Callable[[Update, Context], Awaitable[None]]] = {}
        # The user_data keys where journeys keep an unfinished draft (a letter, a message):
        # stamped while in use, swept by housekeeping once abandoned.
        self.drafts: set[str] = set()
        # Callback-data prefixes of organisers' own buttons, and of those they use for
        # themselves (language, their data): the only presses an organiser who has not
        # started (or used /forget) gets past the gate with (handlers.gate).
        self.organiser_buttons: set[str] = set()
        # Set at SIGTERM (`stop_waiting`): a person waiting for an outside service is answered
        # without it now, and start-up stops waiting for Telegram. What is under way is waited
        # for within these deadlines (`unless_stopping`), which the stop brings forward to now.
        self.stopping = False
        self.waiting: set[asyncio.Timeout] = set()

    def stop_waiting(self) -> None:
        """At SIGTERM: everything waited for within `unless_stopping` is given up at once, and
        nothing is waited for that way from now on."""
        self.stopping = True
        now = asyncio.get_running_loop().time()
        for deadline in self.waiting:
            deadline.reschedule(now)

    async def unless_stopping(self, work: Coroutine[Any, Any, T]) -> T:
        """`work`'s result; if the bot is told to stop first, the work is dropped and
        BotStopping raised, so the bot exits within its 5 seconds (D11) rather than after a
        hanging service's own deadline. The work runs in the caller's own task, under a
        deadline the stop brings forward (`stop_waiting`): no task of its own, since a cached
        answer (the petition's count) is the usual case."""
        if self.stopping:
            work.close()
            raise BotStopping
        try:
            async with asyncio.timeout(None) as deadline:
                self.waiting.add(deadline)
                try:
                    return await work
                finally:
                    self.waiting.discard(deadline)
        except TimeoutError:
            if not deadline.expired():
                raise  # the work's own, not the stop's
            raise BotStopping from None

    @property
    def rules(self) -> Rules:
        """Who may get which kind of message, and how many a day (bot.consent)."""
        return Rules.of(self.campaign, self.settings)


class Context(CallbackContext[ExtBot, dict, dict, BotData]):
    """PTB's context plus what one update carries from the gates to the journeys."""

    def __init__(
        self, application: Application, chat_id: int | None = None, user_id: int | None = None
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        # The person's language, once read for this update (every message asks for it).
        self.language: str | None = None
        # Whether the person has a supporter row (pressed /start and did not /forget since);
        # None outside an update from a person (a job).
        self.started: bool | None = None
        # Whether this update's messages are noted for /forget (`handlers.common.remember`):
        # a supporter's, and an organiser's with or without a row; not those of someone else
        # the bot keeps nothing about. None outside an update from a person (a job), whose
        # messages are written at once.
        self.noting: bool | None = None
        # Whether a button press has already replaced its message during this update.
        self.edited_message = False
        # Whether the button press has been answered (Telegram takes one answer per press).
        self.answered = False
