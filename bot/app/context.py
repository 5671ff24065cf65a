"""The typed context every callback receives, and the long-lived services it carries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import CallbackContext, ExtBot

if TYPE_CHECKING:
    import httpx

    from bot.campaign import Campaign
    from bot.config import Settings
    from bot.storage import Storage


# The user_data key stamping when a supporter last touched one of their drafts.
DRAFT_STAMP = "draft_at"


class BotData:
    """Services shared by all handlers.

    PTB instantiates this without arguments; `build_application` sets settings and campaign,
    `post_init` opens storage and the HTTP client.
    """

    settings: Settings
    campaign: Campaign
    storage: Storage
    http: httpx.AsyncClient

    def __init__(self) -> None:
        # Journey name -> the callback that opens it (from the menu or a deep link).
        self.journeys: dict[str, Callable[[Update, Context], Awaitable[None]]] = {}
        # The user_data keys where journeys keep an unfinished draft (a letter, a message):
        # stamped while in use, swept by housekeeping once abandoned.
        self.drafts: set[str] = set()
        # Anything a domain module keeps for the life of the process (caches, clients).
        self.services: dict[str, Any] = {}


Context = CallbackContext[ExtBot, dict, dict, BotData]
