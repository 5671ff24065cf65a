"""Webhook mode: Telegram POSTs each update to WEBHOOK_URL; this small server takes it in.

python-telegram-bot's own webhook server answers a body that is not JSON with a 500 (so
Telegram keeps sending it) and logs an update it cannot read with its whole content at CRITICAL.
This one refuses a request without the secret token (403, X2), refuses a body that is not JSON
with 400 and never logs it, and hands on an update the library cannot read as its bare id, so it
is confirmed and skipped like any other (`bot.app.updates`, X9). Telegram delivers an update
again when its first delivery got no answer in time: an update id already taken in is confirmed
and not handled twice. A body larger than any update, or one that arrives too slowly, is cut off.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import json
import logging
import socket
from collections import deque
from http import HTTPStatus
from urllib.parse import urlparse

import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import Update
from telegram.ext import Application

import handlers
from bot.app.updates import readable
from bot.config import Settings

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An update is a message of at most 4,096 characters with its entities, a reply it quotes and a
# keyboard: well under a megabyte. A body that is larger, or still arriving after 10 seconds,
# is not Telegram's.
MAX_BODY_BYTES = 1 << 20
BODY_SECONDS = 10.0
# Telegram redelivers an update only within minutes of the first try, and sends at most 40 at
# once: remembering the last few thousand ids is plenty.
REMEMBERED_UPDATES = 4096


class PortUnavailable(Exception):
    """WEBHOOK_LISTEN:WEBHOOK_PORT cannot be listened on; the message is one line naming the
    setting and what to do."""


def listen(settings: Settings) -> list[socket.socket]:
    """Sockets listening on WEBHOOK_LISTEN:WEBHOOK_PORT, taken before anything else starts so
    that a port another program holds stops the start in one line, with nothing created.
    Raises PortUnavailable."""
    port, address = settings.webhook_port, settings.webhook_listen
    try:
        return tornado.netutil.bind_sockets(port, address)
    except OSError as error:
        raise PortUnavailable(why_not(error, address, port)) from None


def why_not(error: OSError, address: str, port: int) -> str:
    """The one line for a port the webhook could not listen on."""
    if error.errno == errno.EADDRINUSE:
        return (
            f"Setting WEBHOOK_PORT: port {port} on {address} is already in use by another "
            "program (or another copy of this bot). Stop it, or set WEBHOOK_PORT to a free port "
            "and point the reverse proxy at it, then start again."
        )
    if error.errno == errno.EACCES:
        return (
            f"Setting WEBHOOK_PORT: this user may not listen on port {port} (only root may use "
            "ports below 1024). Set WEBHOOK_PORT to 1024 or above, e.g. 8443, and point the "
            "reverse proxy at it, then start again."
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return (
            f"Setting WEBHOOK_LISTEN: {address} is not an address of this machine. Set it to "
            "one of its addresses, or 0.0.0.0 for all of them, then start again."
        )
    return (
        f"Settings WEBHOOK_LISTEN and WEBHOOK_PORT: cannot listen on {address} port {port} "
        f"({error.strerror or error}). Check both, then start again."
    )


class RecentUpdates:
    """The ids of the updates taken in lately, oldest forgotten first."""

    def __init__(self, size: int = REMEMBERED_UPDATES) -> None:
        self.order: deque[int] = deque(maxlen=size)
        self.ids: set[int] = set()

    def first_time(self, update_id: int) -> bool:
        """Whether `update_id` is new; it is remembered from now on."""
        if update_id in self.ids:
            return False
        if len(self.order) == self.order.maxlen:
            self.ids.discard(self.order[0])
        self.order.append(update_id)
        self.ids.add(update_id)
        return True


class UpdateReceiver(tornado.web.RequestHandler):
    """One POST from Telegram: one update, queued for the application."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, app: Application, secret: str, recent: RecentUpdates) -> None:
        self.app = app
        self.secret = secret
        self.recent = recent

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            logger.warning("Refused a webhook request without the right secret token")
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        try:
            data = json.loads(self.request.body)
        except ValueError:
            logger.warning("Refused a webhook request whose body is not JSON")
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from None
        kept = readable(data)
        if kept is None:
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST)
        if not self.recent.first_time(kept["update_id"]):
            logger.info("Update %s was delivered again; it is handled once", kept["update_id"])
            return
        await self.app.update_queue.put(Update.de_json(kept, self.app.bot))

    def log_exception(self, typ, value, tb) -> None:
        """Refusals are logged above, without the request; anything else without it too."""
        if not isinstance(value, tornado.web.HTTPError):
            logger.error("Webhook request failed: %s", type(value).__name__)


class Webhook:
    """The webhook server and its registration with Telegram, started and stopped with the bot."""

    def __init__(
        self, app: Application, settings: Settings, sockets: list[socket.socket]
    ) -> None:
        self.app = app
        self.settings = settings
        self.sockets = sockets  # from `listen`
        self.server: tornado.httpserver.HTTPServer | None = None

    @property
    def path(self) -> str:
        return urlparse(str(self.settings.webhook_url)).path.rstrip("/") or "/"

    async def start(self) -> None:
        """Serve on the sockets `listen` took, then tell Telegram where to send updates
        (only the kinds the bot handles) and the secret to send with them."""
        secret = self.settings.webhook_secret.get_secret_value()
        receiver = {"app": self.app, "secret": secret, "recent": RecentUpdates()}
        routes = [(rf"{self.path}/?", UpdateReceiver, receiver)]
        self.server = tornado.httpserver.HTTPServer(
            tornado.web.Application(routes),
            max_body_size=MAX_BODY_BYTES,
            body_timeout=BODY_SECONDS,
        )
        self.server.add_sockets(self.sockets)
        await self.app.bot.set_webhook(
            str(self.settings.webhook_url),
            allowed_updates=handlers.ALLOWED_UPDATES,
            secret_token=secret,
        )

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            await asyncio.wait_for(self.server.close_all_connections(), timeout=5)
            self.server = None
