"""An in-process stand-in for the Telegram Bot API, and builders of real `Update` objects.

The fake sits at python-telegram-bot's network edge (`BaseRequest`), so everything above it is
the real bot: `stepup-bot try` chats through it in a terminal, and the tests drive the real
`Application` with it. It answers in the Bot API's own JSON shapes and can be told to fail the
way Telegram does (429 with retry_after, 403, 400, timeouts).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from telegram import Bot, Update
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Step Up", "username": "StepUpBot"}
NO_CONTENT_METHODS = {
    "answerCallbackQuery",
    "setMyCommands",
    "deleteMessage",
    "deleteMessages",
    "deleteWebhook",
    "setWebhook",
    "sendChatAction",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def chat_id(self) -> int | None:
        chat_id = self.params.get("chat_id")
        return int(chat_id) if chat_id is not None and str(chat_id).lstrip("-").isdigit() else None

    @property
    def text(self) -> str:
        return self.params.get("text") or self.params.get("caption") or ""

    @property
    def buttons(self) -> list[dict[str, Any]]:
        markup = self.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [button for row in (markup or {}).get("inline_keyboard", []) for button in row]


@dataclass
class Fault:
    """How one matching call should fail: status 429/403/400, or `timeout`."""

    status: int | str
    description: str = ""
    retry_after: int | None = None


class Profile:
    """The bot's name, description and short description per language, as the Bot API keeps
    them: setMyName sets what getMyName answers, and so on. Shared by both fake Bot APIs."""

    FIELDS: ClassVar[dict[str, str]] = {
        "Name": "name",
        "Description": "description",
        "ShortDescription": "short_description",
    }

    def __init__(self) -> None:
        self.texts: dict[tuple[str, str], str] = {}  # (field, language code or "") -> text

    @classmethod
    def handles(cls, method: str) -> bool:
        return method.startswith(("getMy", "setMy")) and method[len("getMy") :] in cls.FIELDS

    def answer(self, method: str, params: dict[str, Any]) -> object:
        """The Bot API's result for a getMy*/setMy* call of the profile."""
        field = self.FIELDS[method[len("getMy") :]]
        key = (field, params.get("language_code") or "")
        if method.startswith("set"):
            self.texts[key] = params.get(field) or ""
            return True
        return {field: self.texts.get(key, "")}


class OfflineBotAPI(BaseRequest):
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.faults: list[tuple[Callable[[Call], bool], Fault]] = []
        self._message_ids = itertools.count(1000)
        self._answered: set[str] = set()
        self.profile = Profile()
        self.on_call: Callable[[Call], None] | None = None

    # --- the BaseRequest interface --------------------------------------------------------

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: object
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        call = Call(api_method, dict(request_data.parameters) if request_data else {})
        if api_method == "getUpdates":
            await asyncio.sleep(0.05)
            return self._ok([])
        self.calls.append(call)
        if self.on_call:
            self.on_call(call)
        fault = self._fault_for(call) or self._answered_twice(call)
        if fault:
            return self._fail(fault)
        return self._ok(self._result(call))

    def _answered_twice(self, call: Call) -> Fault | None:
        """Telegram accepts one answer per button press; a second one is a 400."""
        if call.method != "answerCallbackQuery":
            return None
        query_id = str(call.params.get("callback_query_id"))
        if query_id in self._answered:
            return Fault(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._answered.add(query_id)
        return None

    # --- faults ---------------------------------------------------------------------------

    def fail(
        self, fault: Fault, when: Callable[[Call], bool] = lambda call: True, times: int = 1
    ) -> None:
        """Make the next `times` calls matching `when` fail with `fault`."""
        self.faults.extend([(when, fault)] * times)

    def _fault_for(self, call: Call) -> Fault | None:
        for index, (when, fault) in enumerate(self.faults):
            if when(call):
                del self.faults[index]
                return fault
        return None

    def _fail(self, fault: Fault) -> tuple[int, bytes]:
        if fault.status == "timeout":
            raise TimedOut("Timed out")
        body: dict[str, Any] = {
            "ok": False,
            "error_code": fault.status,
            "description": fault.description,
        }
        if fault.retry_after is not None:
            body["parameters"] = {"retry_after": fault.retry_after}
            body["description"] = f"Too Many Requests: retry after {fault.retry_after}"
        return int(fault.status), json.dumps(body).encode()

    # --- answers in the Bot API's shapes --------------------------------------------------

    @staticmethod
    def _ok(result: object) -> tuple[int, bytes]:
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _result(self, call: Call) -> object:
        if call.method == "getMe":
            return {
                **BOT_USER,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if call.method in NO_CONTENT_METHODS:
            return True
        if Profile.handles(call.method):
            return self.profile.answer(call.method, call.params)
        if call.method.startswith("send") or call.method.startswith("edit"):
            return self._message(call)
        return True

    def _message(self, call: Call) -> dict[str, Any]:
        chat_id = call.chat_id or 0
        message = {
            "message_id": int(call.params.get("message_id") or next(self._message_ids)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "channel"},
            "from": BOT_USER,
        }
        if call.method in {"sendPhoto", "sendDocument"}:
            message["caption"] = call.text
            kind = "photo" if call.method == "sendPhoto" else "document"
            message[kind] = (
                [{"file_id": "photo-1", "file_unique_id": "p1", "width": 800, "height": 600}]
                if kind == "photo"
                else {"file_id": "document-1", "file_unique_id": "d1"}
            )
        else:
            message["text"] = call.text
        if "reply_markup" in call.params:
            markup = call.params["reply_markup"]
            message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        return message

    # --- reading what was sent ------------------------------------------------------------

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages sent or edited, optionally to one chat, oldest first."""
        return [
            call
            for call in self.calls
            if (call.method.startswith("send") or call.method.startswith("edit"))
            and (chat_id is None or call.chat_id == chat_id)
        ]

    def last(self, chat_id: int | None = None) -> Call:
        return self.sent(chat_id)[-1]

    def clear(self) -> None:
        self.calls.clear()


class UpdateFactory:
    """Real `Update` objects, as Telegram would deliver them, for a given bot."""

    # Shared by every factory: Telegram never reuses an update or button-press id, even across
    # a restart of the bot.
    _ids = itertools.count(1)

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._message_ids = itertools.count(1)

    @staticmethod
    def user(user_id: int, language_code: str | None = "en", first_name: str = "Ana") -> dict:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        return user

    def message(self, user_id: int, text: str, language_code: str | None = "en") -> Update:
        """A private message; a leading /command gets its bot_command entity like the real thing."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Ana"},
            "from": self.user(user_id, language_code),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return Update.de_json({"update_id": next(self._ids), "message": message}, self.bot)

    def callback(
        self,
        user_id: int,
        data: str,
        message_id: int = 1,
        language_code: str | None = "en",
        message_text: str = "…",
    ) -> Update:
        """A button press on one of the bot's messages."""
        update = {
            "update_id": next(self._ids),
            "callback_query": {
                "id": str(next(self._ids)),
                "from": self.user(user_id, language_code),
                "chat_instance": str(user_id),
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": user_id, "type": "private", "first_name": "Ana"},
                    "from": BOT_USER,
                    "text": message_text,
                },
            },
        }
        return Update.de_json(update, self.bot)
