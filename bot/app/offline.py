"""An in-process stand-in for the Telegram Bot API, and builders of real `Update` objects.

The fake sits at python-telegram-bot's network edge (`BaseRequest`), so everything above it is
the real bot: `stepup-bot try` chats through it in a terminal, and the tests drive the real
`Application` with it. It answers in the Bot API's own JSON shapes and is as strict as Telegram
(X10): it parses the HTML of every text and caption and refuses what Telegram refuses (a tag it
does not support, a tag left open, a text over 4,096 characters or a caption over 1,024 once
parsed, an empty text), answers a button press only once and only within 15 seconds, keeps
each message's keyboard (an edit without one removes it) and refuses an edit that changes
nothing. It can be told to fail the way Telegram and networks do (429 with retry_after, 403,
400, 500, 502, a timeout, a dropped connection).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, ClassVar

from telegram import Bot, Update
from telegram.constants import MessageLimit
from telegram.error import NetworkError, TimedOut
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
ANSWER_WITHIN = 15.0  # seconds Telegram waits for a button press to be answered
# The tags Telegram's HTML parse mode knows (https://core.telegram.org/bots/api#html-style).
TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)


class EntityError(ValueError):
    """HTML Telegram would refuse to parse."""


class _TelegramHTML(HTMLParser):
    """Telegram's HTML parse mode: the text a person sees, or EntityError."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in TELEGRAM_TAGS:
            raise EntityError(f'Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise EntityError(f'Unmatched end tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed_text(html: str) -> str:
    """What Telegram shows for `html` in HTML parse mode; EntityError where Telegram refuses."""
    parser = _TelegramHTML()
    parser.feed(html)
    parser.close()
    if parser.open:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{parser.open[-1]}"')
    return "".join(parser.text)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    # Uploaded files by part name: (file name, content).
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    result: Any = None  # the Bot API's answer; None when the call was refused

    @property
    def chat_id(self) -> int | None:
        chat_id = self.params.get("chat_id")
        return int(chat_id) if chat_id is not None and str(chat_id).lstrip("-").isdigit() else None

    @property
    def text(self) -> str:
        return self.params.get("text") or self.params.get("caption") or ""

    @property
    def markup(self) -> dict[str, Any] | None:
        markup = self.params.get("reply_markup")
        return json.loads(markup) if isinstance(markup, str) else markup

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [button for row in (self.markup or {}).get("inline_keyboard", []) for button in row]


@dataclass
class Fault:
    """How one matching call should fail: an HTTP status (429, 403, 400, 500, 502...) with
    Telegram's description, `timeout` (no answer in time) or `network` (connection lost)."""

    status: int | str
    description: str = ""
    retry_after: int | None = None


SERVER_ERRORS = {500: "Internal Server Error", 502: "Bad Gateway"}


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
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.calls: list[Call] = []
        self.faults: list[tuple[Callable[[Call], bool], Fault]] = []
        self.clock = clock
        self._message_ids = itertools.count(1000)
        # Button presses Telegram has delivered: query id -> when; answered ones are removed.
        self.presses: dict[str, float] = {}
        # What each chat holds: (chat id, message id) -> the message, as Telegram keeps it.
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        # Updates waiting for the bot to fetch them, as raw JSON; and the last getUpdates asked.
        self.inbox: list[dict[str, Any]] = []
        self.last_poll: dict[str, Any] = {}
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
            return await self._updates(call)
        if request_data:
            call.files = uploads(request_data)
        self.calls.append(call)
        if str(call.params.get("drop_pending_updates")).lower() == "true":
            self.inbox.clear()  # as Telegram forgets what waited, for a (de)registered webhook
        fault = self._fault_for(call) or self._refusal(call)
        if not fault:
            call.result = self._result(call)
        if self.on_call:
            self.on_call(call)
        return self._fail(fault) if fault else self._ok(call.result)

    async def _updates(self, call: Call) -> tuple[int, bytes]:
        """Waiting updates from `offset` on; asking with an offset confirms those before it."""
        self.last_poll = call.params
        offset = int(call.params.get("offset") or 0)
        self.inbox = [update for update in self.inbox if update["update_id"] >= offset]
        if not self.inbox:
            await asyncio.sleep(0.05)
        return self._ok(self.inbox)

    # --- what Telegram refuses ------------------------------------------------------------

    def _refusal(self, call: Call) -> Fault | None:
        if call.method == "answerCallbackQuery":
            return self._late_or_repeated(call)
        if "text" in call.params or "caption" in call.params:
            return self._unacceptable_text(call)
        return None

    def _late_or_repeated(self, call: Call) -> Fault | None:
        """Telegram accepts one answer per button press, within about 15 seconds."""
        pressed_at = self.presses.pop(str(call.params.get("callback_query_id")), None)
        if pressed_at is None or self.clock() - pressed_at > ANSWER_WITHIN:
            return Fault(400, QUERY_TOO_OLD)
        return None

    def _unacceptable_text(self, call: Call) -> Fault | None:
        is_caption = "caption" in call.params
        raw = call.params.get("caption" if is_caption else "text") or ""
        try:
            shown = parsed_text(raw) if call.params.get("parse_mode") == "HTML" else raw
        except EntityError as error:
            return Fault(400, f"Bad Request: can't parse entities: {error}")
        if not is_caption and not shown.strip():
            return Fault(400, "Bad Request: message text is empty")
        limit = MessageLimit.CAPTION_LENGTH if is_caption else MessageLimit.MAX_TEXT_LENGTH
        if telegram_length(shown.strip()) > limit:
            kind = "message caption" if is_caption else "message"
            return Fault(400, f"Bad Request: {kind} is too long")
        return self._unacceptable_edit(call) if call.method.startswith("edit") else None

    def _unacceptable_edit(self, call: Call) -> Fault | None:
        """A photo's message has a caption, not a text; an edit must change something."""
        kept = self.messages.get((call.chat_id or 0, int(call.params.get("message_id") or 0)))
        if kept is None:
            return None  # a message from before this fake started: Telegram still has it
        if call.method == "editMessageText" and "text" not in kept:
            return Fault(400, "Bad Request: there is no text in the message to edit")
        if (
            kept.get("text", kept.get("caption")) == call.text
            and kept.get("reply_markup") == call.markup
        ):
            return Fault(400, NOT_MODIFIED)
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
        if fault.status == "network":
            raise NetworkError("httpx.ConnectError: All connection attempts failed")
        status = int(fault.status)
        body: dict[str, Any] = {
            "ok": False,
            "error_code": status,
            "description": fault.description or SERVER_ERRORS.get(status, ""),
        }
        if fault.retry_after is not None:
            body["parameters"] = {"retry_after": fault.retry_after}
            body["description"] = f"Too Many Requests: retry after {fault.retry_after}"
        return status, json.dumps(body).encode()

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
        message_id = int(call.params.get("message_id") or next(self._message_ids))
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chats.get(chat_id) or chat_of(chat_id),
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
        # An edit without a keyboard leaves the message without one, as in Telegram.
        if call.markup is not None:
            message["reply_markup"] = call.markup
        self.messages[(chat_id, message_id)] = message
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

    def keyboards(self, chat_id: int) -> list[tuple[int, list[dict[str, Any]]]]:
        """(message id, buttons) of the messages in a chat that still show buttons, newest
        first: what a person can still press."""
        shown = []
        for (chat, message_id), message in sorted(self.messages.items(), reverse=True):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            if chat == chat_id and rows:
                shown.append((message_id, [button for row in rows for button in row]))
        return shown

    def clear(self) -> None:
        self.calls.clear()


def uploads(request_data: RequestData) -> dict[str, tuple[str, bytes]]:
    """The files a request uploads (a chart, a PDF, a CSV), by part name."""
    files = {}
    for name, (filename, content, _) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        files[name] = (filename or name, data)
    return files


# --- chats and updates, as Telegram delivers them -----------------------------------------------

CHAT_KINDS = ("private", "group", "supergroup", "channel", "forum")
GROUP_ID, SUPERGROUP_ID, CHANNEL_ID = -4_000_777, -100_777, -1_001_234_567_890


def chat_of(chat_id: int) -> dict[str, Any]:
    """The chat a bare id stands for: people have positive ids, channels and supergroups -100…"""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Ana"}
    supergroup = str(chat_id).startswith("-100")
    kind = "channel" if chat_id == CHANNEL_ID else "supergroup" if supergroup else "group"
    return {"id": chat_id, "type": kind, "title": "Campaign chat"}


class UpdateFactory:
    """Real `Update` objects, as Telegram would deliver them, for a given bot.

    Given the offline API, it tells it about the chats and button presses it makes, as
    Telegram knows them: a press can then be answered once, within 15 seconds of `pressed_ago`.
    """

    # Shared by every factory: Telegram never reuses an update or button-press id, even across
    # a restart of the bot.
    _ids = itertools.count(1)

    def __init__(self, bot: Bot, api: OfflineBotAPI | None = None) -> None:
        self.bot = bot
        self.api = api
        self._message_ids = itertools.count(1)

    @staticmethod
    def user(user_id: int, language_code: str | None = "en", first_name: str = "Ana") -> dict:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        return user

    def chat(self, kind: str, user_id: int) -> dict[str, Any]:
        """A chat of `kind` (one of CHAT_KINDS) that the person `user_id` writes in."""
        chats = {
            "private": {"id": user_id, "type": "private", "first_name": "Ana"},
            "group": {"id": GROUP_ID, "type": "group", "title": "Supporters"},
            "supergroup": {"id": SUPERGROUP_ID, "type": "supergroup", "title": "Supporters"},
            "channel": {"id": CHANNEL_ID, "type": "channel", "title": "Step Up"},
            "forum": {
                "id": SUPERGROUP_ID - 1,
                "type": "supergroup",
                "title": "Coalition",
                "is_forum": True,
            },
        }
        chat = chats[kind]
        if self.api is not None:
            self.api.chats[chat["id"]] = chat
        return chat

    def _id(self) -> int:
        return next(self._ids)

    def message_json(
        self, user_id: int, text: str, language_code: str | None = "en", chat: str = "private"
    ) -> dict[str, Any]:
        """A message's JSON in a chat of kind `chat`; a leading /command gets its bot_command
        entity like the real thing; in a channel it has no sender, only the chat."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat, user_id),
            "text": text,
        }
        if chat == "channel":
            message["sender_chat"] = message["chat"]
        else:
            message["from"] = self.user(user_id, language_code)
        if chat == "forum":
            message |= {"message_thread_id": 7, "is_topic_message": True}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return message

    def message(
        self, user_id: int, text: str, language_code: str | None = "en", chat: str = "private"
    ) -> Update:
        """A message from `user_id` (by default in their private chat with the bot)."""
        message = self.message_json(user_id, text, language_code, chat)
        kind = "channel_post" if chat == "channel" else "message"
        return self.update({kind: message})

    def edited(self, user_id: int, text: str, language_code: str | None = "en") -> Update:
        """The person edited an earlier message of theirs in the private chat to read `text`."""
        message = self.message_json(user_id, text, language_code) | {"edit_date": int(time.time())}
        return self.update({"edited_message": message})

    def callback(
        self,
        user_id: int,
        data: str,
        message_id: int = 1,
        language_code: str | None = "en",
        message_text: str = "…",
        chat: str = "private",
        pressed_ago: float = 0.0,
    ) -> Update:
        """A button press on one of the bot's messages, `pressed_ago` seconds ago (a press
        waiting while the bot restarted or was slow)."""
        query_id = str(self._id())
        if self.api is not None:
            self.api.presses[query_id] = self.api.clock() - pressed_ago
        query = {
            "id": query_id,
            "from": self.user(user_id, language_code),
            "chat_instance": str(user_id),
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self.chat(chat, user_id),
                "from": BOT_USER,
                "text": message_text,
            },
        }
        return self.update({"callback_query": query})

    def of_type(self, kind: str, user_id: int, chat: str = "private") -> Update:
        """An update of any `kind` in `Update.ALL_TYPES`, in a chat of kind `chat` where it has
        one, as Telegram shapes it. Message kinds carry "hello"; a membership change is the
        bot being removed; a poll is a poll message's closed poll."""
        person = self.user(user_id)
        where = self.chat(chat, user_id)
        bot = dict(BOT_USER)
        emoji = {"type": "emoji", "emoji": "👍"}
        boost_source = {"source": "premium", "user": person}
        option = {"text": "Yes", "voter_count": 1, "persistent_id": "o1"}
        member = {
            "chat": where,
            "from": person,
            "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": bot},
            "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
        }
        message_kinds = {
            "message",
            "edited_message",
            "channel_post",
            "edited_channel_post",
            "business_message",
            "edited_business_message",
            "guest_message",
        }
        if kind in message_kinds:
            content = self.message_json(user_id, "hello", chat=chat)
            if kind.startswith("edited"):
                content["edit_date"] = int(time.time())
            if "business" in kind:
                content["business_connection_id"] = "bc1"
            return self.update({kind: content})
        if kind == "callback_query":
            return self.callback(user_id, "menu", chat=chat)
        shapes: dict[str, Any] = {
            "inline_query": {"id": "iq1", "from": person, "query": "16days", "offset": ""},
            "chosen_inline_result": {"result_id": "r1", "from": person, "query": "16days"},
            "shipping_query": {
                "id": "sq1",
                "from": person,
                "invoice_payload": "p",
                "shipping_address": {
                    "country_code": "GB",
                    "state": "",
                    "city": "London",
                    "street_line1": "1 Street",
                    "street_line2": "",
                    "post_code": "SW1A 1AA",
                },
            },
            "pre_checkout_query": {
                "id": "pq1",
                "from": person,
                "currency": "GBP",
                "total_amount": 100,
                "invoice_payload": "p",
            },
            "poll": {
                "id": "p1",
                "question": "Did you sign?",
                "options": [option],
                "total_voter_count": 1,
                "is_closed": True,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
                "allows_revoting": False,
                "members_only": False,
            },
            "poll_answer": {
                "poll_id": "p1",
                "option_ids": [0],
                "option_persistent_ids": ["o1"],
                "user": person,
            },
            "my_chat_member": member,
            "chat_member": member,
            "chat_join_request": {
                "chat": where,
                "from": person,
                "user_chat_id": user_id,
                "date": 0,
            },
            "chat_boost": {
                "chat": where,
                "boost": {
                    "boost_id": "b1",
                    "add_date": 0,
                    "expiration_date": 1,
                    "source": boost_source,
                },
            },
            "removed_chat_boost": {
                "chat": where,
                "boost_id": "b1",
                "remove_date": 0,
                "source": boost_source,
            },
            "message_reaction": {
                "chat": where,
                "message_id": 1,
                "user": person,
                "date": 0,
                "old_reaction": [],
                "new_reaction": [emoji],
            },
            "message_reaction_count": {
                "chat": where,
                "message_id": 1,
                "date": 0,
                "reactions": [{"type": emoji, "total_count": 2}],
            },
            "business_connection": {
                "id": "bc1",
                "user": person,
                "user_chat_id": user_id,
                "date": 0,
                "is_enabled": True,
            },
            "deleted_business_messages": {
                "business_connection_id": "bc1",
                "chat": where,
                "message_ids": [1],
            },
            "purchased_paid_media": {"from": person, "paid_media_payload": "p"},
            "managed_bot": {"user": person, "bot": bot},
        }
        return self.update({kind: shapes[kind]})

    def update(self, content: dict[str, Any]) -> Update:
        """An update carrying `content` (e.g. {"message": ...}), with a fresh update id."""
        return Update.de_json({"update_id": self._id(), **content}, self.bot)
