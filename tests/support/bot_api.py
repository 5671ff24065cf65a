"""A loopback Telegram Bot API: a real HTTP server on 127.0.0.1 that a real `telegram.Bot` reaches
through its real network stack (`Bot(token, base_url=api.base_url)`), for the delivery tests,
the kill -9 test (the bot runs in a subprocess) and the benchmark.

It answers the methods a bot uses in the Bot API's JSON shapes, counts the messages delivered to
each chat, and fails the way Telegram does when told to: 403 for chats that blocked the bot, 400,
429 with parameters.retry_after (after which every send before retry_after has passed is refused
too and counted as `early`, as Telegram's flood control does), and late answers for timeouts (the
message is delivered, only the answer is late, which is what makes a timeout "unknown"), or
none at all for the methods told to hang.

Supporters can talk to the bot too: `send_text` and `press` queue updates in the Bot API's shape,
which getUpdates serves as Telegram does: every update at or above the `offset` asked for, so one
a bot fetched but never confirmed (it died first) is served again, and one it confirmed is gone.

In a test: `async with FakeBotApi() as api: ...`. As its own process (the benchmark):
`python -m tests.support.bot_api [latency seconds]` prints `port <n>` and serves until killed;
GET /_fake/stats returns the counts as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import os
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from telegram.constants import MessageLimit

from bot.app.offline import QUERY_TOO_OLD, EntityError, Profile, parsed_text, telegram_length

TOKEN = "123456:loopback-fake-token"
ROOT = Path(__file__).resolve().parents[2]
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Step Up", "username": "StepUpBot"}
MESSAGE_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendAnimation", "sendVideo", "copyMessage"}
)
EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})
TRUE_METHODS = frozenset(
    {
        "deleteWebhook",
        "setWebhook",
        "setMyCommands",
        "deleteMyCommands",
        "setChatMenuButton",
        "deleteMessage",
        "deleteMessages",
        "answerCallbackQuery",
        "sendChatAction",
        "close",
        "logOut",
    }
)


# Telegram counts in whole seconds, not to the millisecond: two sends a second apart at the bot
# may arrive a little less than that apart.
FLOOD_TOLERANCE = 0.05


@dataclass(frozen=True)
class Request:
    method: str
    chat_id: int | str | None
    at: float  # time.monotonic() on arrival
    status: int
    params: dict[str, Any]


class FakeBotApi:
    def __init__(
        self,
        token: str = TOKEN,
        *,
        keep_requests: bool = True,
        long_poll_seconds: float = 0.2,
        latency: float = 0.0,
        flood_limit: float | None = None,
    ) -> None:
        """`latency`: seconds before each answer (a server's distance from Telegram).
        `flood_limit`: refuse with 429, as Telegram does, sends beyond this many a second
        overall or one a second in a chat (with FLOOD_TOLERANCE for the network's jitter)."""
        self.token = token
        self.keep_requests = keep_requests
        self.long_poll_seconds = long_poll_seconds
        self.latency = latency
        self.flood_limit = flood_limit
        self._recent_sends: deque[float] = deque()
        self._last_send_to: dict[int | str, float] = {}
        self.over_limit = 0  # sends refused for going beyond flood_limit
        # Faults, by chat id.
        self.blocked: set[int] = set()
        self.bad: set[int] = set()
        self.flood: dict[int, int] = {}  # the chat's first send gets 429 with this retry_after
        self.slow: dict[int, float] = {}  # the chat's next answer is this late (but delivered)
        # Telegram's servers failing: this many next sends are refused with a 500 (JSON) or a
        # 502 (an HTML page, from the proxy in front), alternately; nothing is delivered.
        self.server_errors = 0
        # Methods Telegram takes and never answers (a Bot API that hangs), and how often each
        # was asked: only the bot's own timeout ends such a request.
        self.hanging: set[str] = set()
        self.hung: Counter[str] = Counter()
        # Button presses Telegram no longer takes an answer for (a press from before a restart).
        self.late_presses: set[str] = set()
        # The method at whose first call the token stops being accepted (revoked with
        # @BotFather at that moment): that call is refused already.
        self.revoke_token_at: str | None = None
        self.answered: set[str] = set()
        self.on_message: Callable[[int | str], None] | None = None
        # The same moment, with what was sent (the request's parameters).
        self.on_delivered: Callable[[int | str, dict[str, Any]], None] | None = None
        # What supporters sent, waiting for the bot to confirm it (getUpdates with a higher offset).
        self.updates: list[dict[str, Any]] = []
        self.offset = 0  # the highest offset the bot asked for: every update below it is confirmed
        self._update_ids = itertools.count(1)
        self._update_queued = asyncio.Event()
        # The latest message the bot sent or edited in each chat: the one a supporter presses.
        self.last_messages: dict[int | str, dict[str, Any]] = {}
        self.profile = Profile()
        # What happened.
        self.delivered: Counter[int | str] = Counter()
        self.per_second: Counter[int] = Counter()
        self.requests: list[Request] = []
        self.floods: list[float] = []  # arrival times of the 429s we were told to give
        self.early = 0  # sends that arrived while flood control was on
        # Requests being answered now, and the most at once: how many connections the bot kept
        # busy together.
        self.answering = 0
        self.most_answering = 0
        self.flood_until = 0.0
        self._message_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def __aenter__(self) -> FakeBotApi:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/_fake/stats", self._stats)
        # A short shutdown timeout: late answers still pending when a test ends are dropped.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    # --- reading what happened ---------------------------------------------------------------

    def sends(self, chat_id: int | None = None) -> list[Request]:
        """Every message-sending request (answered or refused), optionally to one chat."""
        return [
            request
            for request in self.requests
            if request.method in MESSAGE_METHODS and chat_id in (None, request.chat_id)
        ]

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.delivered.values() if count > 1)

    def stats(self) -> dict[str, Any]:
        return {
            "delivered": sum(self.delivered.values()),
            "chats": len(self.delivered),
            "duplicates": self.duplicates,
            "early": self.early,
            "per_second": sorted(self.per_second.items()),
        }

    # --- what supporters do ----------------------------------------------------------------------

    def send_text(self, user_id: int, text: str, language_code: str = "en") -> int:
        """A supporter types `text` in their private chat with the bot; returns the update id."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _private_chat(user_id),
            "from": _person(user_id, language_code),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._queue({"message": message})

    def press(self, user_id: int, data: str, language_code: str = "en") -> int:
        """A supporter presses a button carrying `data` on the latest message the bot sent them;
        returns the update id."""
        message = self.last_messages.get(user_id) or {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _private_chat(user_id),
            "from": BOT_USER,
            "text": "…",
        }
        update_id = next(self._update_ids)
        query = {
            "id": str(update_id),
            "from": _person(user_id, language_code),
            "chat_instance": str(user_id),
            "message": message,
            "data": data,
        }
        return self._queue({"callback_query": query}, update_id)

    def confirmed(self, update_id: int) -> bool:
        """Whether the bot has confirmed the update (Telegram will not serve it again)."""
        return update_id < self.offset

    def deliver(self, update: dict[str, Any]) -> int:
        """Any update, in the Bot API's JSON shape without its id (e.g. {"channel_post": ...}),
        served by getUpdates like the rest; returns its update id."""
        return self._queue(update)

    def _queue(self, update: dict[str, Any], update_id: int | None = None) -> int:
        update_id = update_id or next(self._update_ids)
        self.updates.append({"update_id": update_id, **update})
        self._update_queued.set()
        return update_id

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Telegram's long polling: updates below `offset` are confirmed and forgotten; the rest
        are served (oldest first, up to `limit`), waiting a little for one if there are none."""
        self.offset = max(self.offset, int(params.get("offset") or 0))
        self.updates = [update for update in self.updates if update["update_id"] >= self.offset]
        if not self.updates:
            self._update_queued.clear()
            wait = min(float(params.get("timeout") or 0), self.long_poll_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_queued.wait(), wait)
        return self.updates[: int(params.get("limit") or 100)]

    # --- the server ----------------------------------------------------------------------------

    async def _stats(self, _: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _handle(self, request: web.Request) -> web.Response:
        self.answering += 1
        self.most_answering = max(self.most_answering, self.answering)
        try:
            return await self._answer_request(request)
        finally:
            self.answering -= 1

    async def _answer_request(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == self.revoke_token_at:
            self.token = "revoked"
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        if method in self.hanging:
            self.hung[method] += 1
            await asyncio.Event().wait()  # until the bot gives up or the server shuts down
        try:
            params = await _params(request)
        except ConnectionResetError:
            # The bot died (kill -9) half-way through sending the request: nothing arrived.
            return _error(400, "Bad Request: the request was cut off")
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        if method == "deleteWebhook" and str(params.get("drop_pending_updates")).lower() == "true":
            self.updates.clear()
        chat_id = _chat_id(params.get("chat_id"))
        arrived = time.monotonic()
        response = self._answer(method, chat_id, params, arrived)
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.keep_requests:
            self.requests.append(Request(method, chat_id, arrived, response.status, params))
        if response.status == 200 and chat_id in self.slow:
            await asyncio.sleep(self.slow.pop(chat_id))
        return response

    def _answer(
        self, method: str, chat_id: int | str | None, params: dict[str, Any], arrived: float
    ) -> web.Response:
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.bad:
            return _error(400, "Bad Request: chat not found")
        if refusal := self._refusal(method, params):
            return _error(400, refusal)
        if method in MESSAGE_METHODS:
            if self.server_errors:
                self.server_errors -= 1
                return _server_error(self.server_errors % 2 == 0)
            if self.flood_limit is not None and self._beyond_limit(chat_id, arrived):
                self.over_limit += 1
                return _too_many(1)
            if arrived < self.flood_until:
                self.early += 1
                return _too_many(math.ceil(self.flood_until - arrived))
            if chat_id in self.flood:
                retry_after = self.flood.pop(chat_id)
                self.flood_until = arrived + retry_after
                self.floods.append(arrived)
                return _too_many(retry_after)
            self.delivered[chat_id] += 1
            self.per_second[int(arrived)] += 1
            if self.on_message:
                self.on_message(chat_id)
            if self.on_delivered:
                self.on_delivered(chat_id, params)
        result = self._result(method, chat_id, params)
        return _error(404, "Not Found") if result is None else _ok(result)

    def _refusal(self, method: str, params: dict[str, Any]) -> str | None:
        """What Telegram says when it refuses the request as such, as `bot.app.offline` does: a
        text or caption too long or not parseable, a button press answered late or twice."""
        if method == "answerCallbackQuery":
            query_id = str(params.get("callback_query_id"))
            if query_id in self.late_presses or query_id in self.answered:
                return QUERY_TOO_OLD
            self.answered.add(query_id)
            return None
        limits = (("text", MessageLimit.MAX_TEXT_LENGTH), ("caption", MessageLimit.CAPTION_LENGTH))
        for field, limit in limits:
            if field not in params:
                continue
            shown = str(params[field])
            try:
                if params.get("parse_mode") == "HTML":
                    shown = parsed_text(shown)
            except EntityError as error:
                return f"Bad Request: can't parse entities: {error}"
            if telegram_length(shown) > limit:
                return f"Bad Request: message {field} is too long"
            if field == "text" and not shown.strip():
                return "Bad Request: message text is empty"
        return None

    def _beyond_limit(self, chat_id: int | str | None, arrived: float) -> bool:
        """Whether a send arriving now breaks Telegram's limits; if not, it counts towards them."""
        window = 1.0 - FLOOD_TOLERANCE
        while self._recent_sends and self._recent_sends[0] <= arrived - window:
            self._recent_sends.popleft()
        last = self._last_send_to.get(chat_id)
        if len(self._recent_sends) >= self.flood_limit or (last and arrived - last < window):
            return True
        self._recent_sends.append(arrived)
        self._last_send_to[chat_id] = arrived
        return False

    def _result(self, method: str, chat_id: int | str | None, params: dict[str, Any]) -> object:
        if method == "getMe":
            return {
                **BOT_USER,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in TRUE_METHODS:
            return True
        if Profile.handles(method):
            return self.profile.answer(method, params)
        if method == "getMyCommands":
            return []
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method in MESSAGE_METHODS or method in EDIT_METHODS:
            return self._message(method, chat_id, params)
        return None

    def _message(
        self, method: str, chat_id: int | str | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        numeric_id = chat_id if isinstance(chat_id, int) else -1001234567890
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "date": int(time.time()),
            "chat": (
                {"id": numeric_id, "type": "private", "first_name": "Supporter"}
                if numeric_id > 0
                else {"id": numeric_id, "type": "channel", "title": "Campaign"}
            ),
            "from": BOT_USER,
        }
        if method == "sendPhoto":
            message["photo"] = [
                {
                    "file_id": _file_id(params["photo"]),
                    "file_unique_id": "AQAD1",
                    "width": 90,
                    "height": 90,
                }
            ]
        if method == "sendDocument":
            message["document"] = {
                "file_id": _file_id(params["document"]),
                "file_unique_id": "AQAD2",
            }
        if "caption" in params:
            message["caption"] = params["caption"]
        elif "text" in params:
            message["text"] = params["text"]
        markup = params.get("reply_markup")
        if markup:
            message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        if chat_id is not None:
            self.last_messages[chat_id] = message
        return message


async def _params(request: web.Request) -> dict[str, Any]:
    """python-telegram-bot posts form fields (JSON-encoded where structured); others post JSON."""
    if request.content_type == "application/json":
        return await request.json()
    return dict(await request.post())


def _file_id(sent: object) -> str:
    """A file sent by its id keeps it; an uploaded one (a form field) is given one."""
    return sent if isinstance(sent, str) else f"uploaded-{getattr(sent, 'filename', 'file')}"


def _chat_id(value: object) -> int | str | None:
    if value is None:
        return None
    text = str(value)
    return int(text) if text.lstrip("-").isdigit() else text


def _person(user_id: int, language_code: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": "Supporter",
        "language_code": language_code,
    }


def _private_chat(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Supporter"}


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str, **parameters: int) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


def _server_error(bad_gateway: bool) -> web.Response:
    if bad_gateway:
        return web.Response(
            status=502, text="<html><body>502 Bad Gateway</body></html>", content_type="text/html"
        )
    return _error(500, "Internal Server Error")


def _too_many(retry_after: int) -> web.Response:
    return _error(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


async def _serve_until_stopped(latency: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with FakeBotApi(keep_requests=False, latency=latency) as api:
        print(f"port {api.port}", flush=True)
        await stop.wait()


async def start_bot_process(
    base_url: str, database: Path, log: Path, **settings: str
) -> asyncio.subprocess.Process:
    """The real bot (`python -m bot run`) as its own process, talking to a fake Bot API at
    `base_url`, its output appended to `log`. `settings` are extra environment settings."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": base_url,
        "DATABASE_PATH": str(database),
        "ORGANISER_IDS": "",
        **settings,
    }
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=database.parent,  # so no developer's .env is read
            stdout=output,
            stderr=output,
        )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_stopped(float(sys.argv[1]) if len(sys.argv) > 1 else 0.0))
