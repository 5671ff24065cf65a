"""`python -m bench.attack`: the tester's run against the real bot process (issue 12).

The bot is started as organisers start it (`python -m bot run`) against the loopback fake Bot
API (tests/support/bot_api.py, as strict as Telegram about lengths, parsing and button answers)
and a loopback postcodes.io and Members API that answer from the `try --sample-data` samples or
fail on demand. Then it is fed what real chats send: every chat type, late, repeated and forged
button presses, edits and photos where text is expected, outside services failing in every way,
an update the library cannot read, a restart, kill -9 during /forget and during a start that
upgrades the database, the webhook's door, SIGTERM at awkward moments, and updates Telegram
gives again because the bot died before their receipt reached it. Each line of the report is
one input, what it should do, and whether it did; then the log is searched for anything anyone
typed. The exit status is 1 if anything failed.

    .venv/bin/python -m bench.attack [--only PART] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession

from bot.app.webhook import SECRET_HEADER
from tests.support.bot_api import BOT_USER, FakeBotApi, Request, start_bot_process
from tests.support.harness import free_port
from tests.support.lookups import FAILURES, Lookups

ORGANISER = 900
SUPPORTER = 10
GENERIC = "something went wrong"
POINTER = "t.me/StepUpBot?start=menu"
GROUP = {"id": -4_000_777, "type": "group", "title": "Supporters"}
SUPERGROUP = {"id": -100_777, "type": "supergroup", "title": "Supporters"}
FORUM = {"id": -100_778, "type": "supergroup", "title": "Coalition", "is_forum": True}
CHANNEL = {"id": -1_001_234_567_890, "type": "channel", "title": "Step Up"}
ANONYMOUS_ADMIN = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
TELEGRAM = {"id": 777000, "is_bot": False, "first_name": "Telegram"}


@dataclass
class Finding:
    tried: str
    expected: str
    ok: bool
    seen: str = ""


@dataclass
class Attack:
    workdir: Path
    api: FakeBotApi
    lookups: Lookups
    findings: list[Finding] = field(default_factory=list)
    bot: asyncio.subprocess.Process | None = None
    typed: list[str] = field(default_factory=list)  # what people typed: never in the log
    message_ids: int = 10_000

    def __post_init__(self) -> None:
        self.database = self.workdir / "bot.db"
        self.log = self.workdir / "bot.log"

    async def start(self, **env: str) -> None:
        await self.launch(**env)
        await self.settle(what="start-up", chat_id=ORGANISER)

    async def launch(self, **env: str) -> None:
        """Start the bot and wait for its start line (not for it to fall quiet)."""
        self.bot = await start_bot_process(
            self.api.base_url,
            self.database,
            self.log,
            ORGANISER_IDS=str(ORGANISER),
            POSTCODES_API_URL=self.lookups.url,
            MEMBERS_API_URL=self.lookups.url,
            LOG_LEVEL="DEBUG",
            USER_UPDATES_PER_MINUTE="100000",  # the flood gate has tests of its own
            **env,
        )
        size = self.log.stat().st_size if self.log.exists() else 0
        while "Starting @" not in self.log.read_text(errors="replace")[size:]:
            if self.bot.returncode is not None:
                raise RuntimeError(f"the bot exited ({self.bot.returncode}) at start-up")
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        if self.bot and self.bot.returncode is None:
            self.bot.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.bot.wait(), 20)
        if self.bot and self.bot.returncode is None:
            self.bot.kill()
            await self.bot.wait()

    def check(self, tried: str, expected: str, ok: bool, seen: str = "") -> None:
        self.findings.append(Finding(tried, expected, ok, seen))
        print(
            f"{'ok  ' if ok else 'FAIL'} {tried}: {expected}{'' if ok else f' ({seen})'}",
            flush=True,
        )

    # --- what people send ---

    def next_message_id(self) -> int:
        self.message_ids += 1
        return self.message_ids

    def message(
        self, chat: dict, text: str | None, sender: dict | None = None, **extra: Any
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.next_message_id(),
            "date": int(time.time()),
            "chat": chat,
            **extra,
        }
        if sender is not None:
            message["from"] = sender
        if text is not None:
            message["text"] = text
            self.typed.append(text)
            if text.startswith("/"):
                length = len(text.split()[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return message

    def say(self, user_id: int, text: str, chat: dict | None = None, **extra: Any) -> int:
        chat = chat or private(user_id)
        return self.api.deliver({"message": self.message(chat, text, person(user_id), **extra)})

    def press(
        self,
        user_id: int,
        data: str,
        chat: dict | None = None,
        late: bool = False,
        query_id: str | None = None,
    ) -> int:
        chat = chat or private(user_id)
        shown = self.api.last_messages.get(chat["id"]) or self.message(chat, None, BOT_USER)
        query_id = query_id or f"q{self.next_message_id()}"
        if late:
            self.api.late_presses.add(query_id)
        query = {
            "id": query_id,
            "from": person(user_id),
            "chat_instance": str(chat["id"]),
            "message": {**shown, "chat": chat},
            "data": data,
        }
        return self.api.deliver({"callback_query": query})

    async def settle(
        self, quiet: float = 1.5, what: str = "", limit: float = 60, chat_id: int | None = None
    ) -> None:
        """Until every update is confirmed and the bot has said nothing (in `chat_id`, if given:
        a broadcast may be going out meanwhile) for `quiet` seconds."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.bot and self.bot.returncode is not None:
                raise RuntimeError(f"the bot exited ({self.bot.returncode}) during {what}")
            said = [r.at for r in self.api.requests[-2000:] if chat_id in (None, r.chat_id)]
            pending = [u for u in self.api.updates if u["update_id"] >= self.api.offset]
            if not pending and time.monotonic() - max(said, default=0) > quiet:
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"the bot did not settle during {what}")

    async def answered(self, chat_id: int, mark: int, what: str, limit: float = 120) -> None:
        """Until the bot has said something in `chat_id` since `mark`, and then nothing more
        there for 5 seconds (it may be busy with a broadcast meanwhile)."""
        deadline = time.monotonic() + limit
        while not self.texts(mark, chat_id) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await self.settle(quiet=5.0, what=what, limit=limit, chat_id=chat_id)

    def mark(self) -> int:
        return len(self.api.requests)

    def since(self, mark: int) -> list[Request]:
        return self.api.requests[mark:]

    def texts(self, mark: int, chat_id: int | None = None) -> list[str]:
        return [
            str(r.params.get("text") or r.params.get("caption") or "")
            for r in self.since(mark)
            if r.method in ("sendMessage", "editMessageText", "sendPhoto", "sendDocument")
            and (chat_id is None or r.chat_id == chat_id)
        ]

    def refused(self, mark: int) -> list[Request]:
        return [
            r for r in self.since(mark) if r.status != 200 and r.method != "answerCallbackQuery"
        ]

    def rows(self, sql: str) -> int:
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            return db.execute(sql).fetchone()[0]

    def buttons(self, chat_id: int, mark: int = 0) -> list[str]:
        data = []
        for r in self.since(mark):
            markup = r.params.get("reply_markup")
            if r.chat_id != chat_id or not markup:
                continue
            markup = json.loads(markup) if isinstance(markup, str) else markup
            for row in markup.get("inline_keyboard", []):
                data += [b["callback_data"] for b in row if "callback_data" in b]
        return list(dict.fromkeys(data))


def person(user_id: int, language_code: str = "en") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Ana", "language_code": language_code}


def private(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Ana"}


# --- the attacks ---------------------------------------------------------------------------


COMMANDS = (
    "/start",
    "/menu",
    "/mydata",
    "/forget",
    "/stop",
    "/help",
    "/stats",
    "/broadcast",
    "/moderate",
    "/lobby",
    "/language",
    "/privacy",
)


def shared_chats() -> list[tuple[str, dict, dict | None, dict]]:
    """(name, chat, sender, the message's other fields) for each way a text arrives in a chat
    that is not private."""

    def supergroup(number: int) -> dict:
        return {**SUPERGROUP, "id": -100_700 - number}

    origin = {"type": "channel", "chat": CHANNEL, "message_id": 5, "date": 0}
    forwarded = {"sender_chat": CHANNEL, "is_automatic_forward": True, "forward_origin": origin}
    topic = {"message_thread_id": 7, "is_topic_message": True}
    return [
        ("group", GROUP, person(SUPPORTER), {}),
        ("supergroup", SUPERGROUP, person(SUPPORTER), {}),
        ("forum topic", FORUM, person(SUPPORTER), topic),
        ("organiser in a group", {**GROUP, "id": -4_000_778}, person(ORGANISER), {}),
        ("channel post", CHANNEL, None, {"sender_chat": CHANNEL}),
        ("anonymous group admin", supergroup(79), ANONYMOUS_ADMIN, {"sender_chat": supergroup(79)}),
        ("channel writing in a group", supergroup(80), CHANNEL_BOT, {"sender_chat": CHANNEL}),
        ("linked channel's auto-forward", supergroup(81), TELEGRAM, forwarded),
    ]


async def chats_that_are_not_private(attack: Attack, restarted: bool) -> None:
    supporters_before = attack.rows("SELECT count(*) FROM supporters")
    for name, chat, sender, extra in shared_chats():
        kind = "channel_post" if chat is CHANNEL else "message"

        def arrive(text: str, chat=chat, sender=sender, extra=extra, kind=kind) -> dict:
            return {kind: attack.message(chat, text, sender, **extra)}

        mark = attack.mark()
        for command in COMMANDS:
            attack.api.deliver(arrive(command))
        attack.api.deliver(arrive("SW1A 1AA"))
        attack.api.deliver(arrive("/start@StepUpBot"))
        await attack.settle(what=name)
        for data in ("menu:show", "forget:yes", "optin:daily:yes"):
            if chat is not CHANNEL:
                attack.press(SUPPORTER, data, chat=chat)
        await attack.settle(what=name)
        said = attack.texts(mark, chat["id"])
        pointers = [t for t in said if POINTER in t]
        others = [t for t in said if POINTER not in t]
        allowed = 0 if (restarted or chat is CHANNEL) else 1
        when = " after a restart" if restarted else ""
        attack.check(
            f"every command, a postcode and 3 buttons in a {name}{when}",
            f"{allowed} 'message me privately', nothing else, no rows",
            len(pointers) <= allowed and not others and not attack.refused(mark),
            f"{len(pointers)} pointers, others {others[:2]}, refused {attack.refused(mark)}",
        )
    attack.check(
        "rows written by updates in shared chats" + (" after a restart" if restarted else ""),
        "none",
        attack.rows("SELECT count(*) FROM supporters") == supporters_before,
    )


async def onboard(attack: Attack, user_id: int) -> None:
    attack.say(user_id, "/start")
    await attack.settle(what="/start")
    if "optin:11" in attack.buttons(user_id):
        attack.press(user_id, "optin:11")
        await attack.settle(what="opt in")


async def late_and_repeated_presses(attack: Attack) -> None:
    await onboard(attack, SUPPORTER)
    attack.say(SUPPORTER, "/menu")
    await attack.settle(what="menu")
    families = [(SUPPORTER, d) for d in attack.buttons(SUPPORTER) if not d.startswith("forget")]
    # The organiser's screens, and the buttons on them (none that sends or cancels anything).
    for command in ("/broadcast list", "/schedule", "/moderate", "/lobby", "/stats"):
        mark = attack.mark()
        attack.say(ORGANISER, command)
        await attack.answered(ORGANISER, mark, what=command)
        families += [
            (ORGANISER, data)
            for data in attack.buttons(ORGANISER, mark)
            if not any(word in data for word in ("send", "cancel", "reject"))
        ]
    for index, (presser, data) in enumerate(dict.fromkeys(families)):
        user_id = SUPPORTER + 100 + index if presser == SUPPORTER else ORGANISER
        await onboard(attack, user_id)
        mark = attack.mark()
        attack.press(user_id, data, late=True)
        attack.press(user_id, data, query_id=f"dup-{data}")
        attack.press(user_id, data, query_id=f"dup-{data}")
        await attack.settle(what=data)
        said = attack.texts(mark, user_id)
        attack.check(
            f"button {data!r}: pressed late (answer refused), then twice with one id",
            "does what it asks, no apology, nothing refused but the answers",
            not any(GENERIC in t for t in said) and not attack.refused(mark) and said != [],
            f"said {said[:1]}, refused {[(r.method, r.status) for r in attack.refused(mark)]}",
        )
    mark = attack.mark()
    attack.press(SUPPORTER + 99, "forget:yes", late=True)
    await onboard(attack, SUPPORTER + 98)
    attack.press(SUPPORTER + 98, "forget:yes", late=True)
    await attack.settle(what="forget")
    attack.check(
        "forget:yes pressed late, by a supporter and by someone never started",
        "the supporter erased, no apology",
        attack.rows(f"SELECT count(*) FROM supporters WHERE user_id = {SUPPORTER + 98}") == 0
        and not any(GENERIC in t for t in attack.texts(mark)),
    )


async def forged_buttons(attack: Attack) -> None:
    forged = [
        "zzz",
        "menu:",
        "x" * 64,
        "lobby:yes:999999",
        "lobby:yes:-1",
        "lobby:yes:1e9",
        "lobby:request:abc",
        "lobbyadm:edit:1",
        "broadcast:send",
        "broadcast:to:all",
        "schedule:send:yes",
        "schedule:preview:99:pt",
        "schedule:day:-5",
        "mp:followup:1:yes",
        "optin:daily:maybe",
        "lang:xx",
        "lang:",
        "moderate:approve:1",
        "lobbyadm:story:approve:1",
        "consent:daily:yes:extra",
    ]
    for index, data in enumerate(forged):
        user_id = SUPPORTER + 200 + index // 5
        if index % 5 == 0:
            await onboard(attack, user_id)
        mark = attack.mark()
        attack.press(user_id, data)
        await attack.settle(quiet=0.8, what=data)
        said = attack.texts(mark, user_id)
        attack.check(
            f"forged callback_data {data[:30]!r} from a supporter",
            "a polite answer, no apology, no organiser screen",
            not any(GENERIC in t for t in said) and not attack.refused(mark),
            f"said {said[:1]} refused {[(r.method, r.status) for r in attack.refused(mark)]}",
        )


async def not_text_where_text_is_expected(attack: Attack) -> None:
    for index, (journey, start) in enumerate(
        (("postcode", "/start mp"), ("solidarity", "/start solidarity"), ("lobby", "/start lobby"))
    ):
        user_id = 300 + index
        non_text = {
            "photo": {
                "photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 9, "height": 9}]
            },
            "sticker": {
                "sticker": {
                    "file_id": "s1",
                    "file_unique_id": "u2",
                    "width": 9,
                    "height": 9,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                }
            },
            "voice": {"voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 2}},
            "location": {"location": {"latitude": 51.5014, "longitude": -0.1419}},
            "contact": {
                "contact": {
                    "phone_number": "+447700900123",
                    "first_name": "Ana",
                    "user_id": user_id,
                }
            },
        }
        await onboard(attack, user_id)
        mark = attack.mark()
        attack.say(user_id, start)
        await attack.settle(what=start)
        for data in attack.buttons(user_id, mark):
            if data.startswith(("solidarity:write", "lobby:yes:", "mp:find")):
                attack.press(user_id, data)
                await attack.settle(what=data)
        tries = [("message", kind, None, content) for kind, content in non_text.items()]
        edit = ("edited_message", "edit", "SW1A 1AA", {"edit_date": int(time.time())})
        for update_kind, kind, typed, content in [*tries, edit]:
            mark = attack.mark()
            message = attack.message(private(user_id), typed, person(user_id), **content)
            attack.api.deliver({update_kind: message})
            await attack.settle(quiet=0.8, what=kind)
            said = attack.texts(mark, user_id)
            attack.check(
                f"a {kind} where the {journey} journey waits for text",
                "a kind word: what is expected, or to send it again as a new message",
                bool(said) and not any(GENERIC in t for t in said),
                f"said {said[:1]}",
            )
        attack.say(user_id, "/cancel")
        await attack.settle(what="cancel")
    with contextlib.closing(sqlite3.connect(attack.database)) as db:
        dump = "\n".join(db.iterdump())
    attack.check(
        "a location or phone number sent to the bot",
        "never stored",
        "51.5014" not in dump and "7700900123" not in dump,
    )


async def outside_services_failing(attack: Attack) -> None:
    for index, failure in enumerate(FAILURES):
        user_id = 400 + index
        await onboard(attack, user_id)
        attack.lookups.failure = failure
        attack.say(user_id, "/start mp")
        await attack.settle(what="mp")
        attack.press(user_id, "mp:find")
        await attack.settle(what="mp:find")
        mark = attack.mark()
        began = time.monotonic()
        attack.say(user_id, "SW1A 1AA")
        await attack.settle(quiet=7.0, what=failure, limit=60)
        said = attack.texts(mark, user_id)
        took = attack.since(mark)[-1].at - began if attack.since(mark) else 0
        attack.check(
            f"postcodes.io and Members API answering {failure}",
            "WriteToThem offered within 6 s, no apology",
            any("writetothem" in t.lower() for t in said)
            and not any(GENERIC in t for t in said)
            and took < 8,
            f"{took:.1f} s, said {said[-1:]}",
        )
        attack.say(user_id, "/cancel")
        await attack.settle(what="cancel")
    attack.lookups.failure = None


def old_poll(question: str) -> dict[str, Any]:
    """A poll as an older local Bot API server sends it: options without `persistent_id`, which
    python-telegram-bot 22 cannot read."""
    return {
        "id": "p1",
        "question": question,
        "options": [{"text": "a", "voter_count": 0}],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    }


async def unreadable_updates(attack: Attack) -> None:
    secret = "typed-by-someone-poll-canary"
    attack.typed.append(secret)
    poll = old_poll(secret)
    mark = attack.mark()
    attack.api.deliver(
        {"message": attack.message(private(SUPPORTER), None, person(SUPPORTER), poll=poll)}
    )
    attack.api.deliver({"something_new": {"text": secret}})
    attack.api.deliver({"message": "not an object"})
    attack.say(SUPPORTER, "/help")
    await attack.settle(what="unreadable")
    attack.check(
        "a poll without persistent_id, an unknown update kind, a message that is a string",
        "skipped; the next /help answered",
        any("999" in t for t in attack.texts(mark, SUPPORTER)),
    )


async def restart(attack: Attack) -> None:
    await attack.stop()
    await attack.start()


def logs_clean(attack: Attack) -> None:
    log = attack.log.read_text(errors="replace")
    leaked = sorted({t for t in attack.typed if len(t) > 5 and not t.startswith("/") and t in log})
    attack.check(
        "the log of the whole run", "none of what people typed", not leaked, f"{leaked[:5]}"
    )
    tracebacks = log.count("Traceback")
    attack.check(
        "the log of the whole run", "no traceback", tracebacks == 0, f"{tracebacks} tracebacks"
    )


# --- the webhook ----------------------------------------------------------------------------


async def webhook(attack: Attack) -> None:
    port = free_port()
    secret = "s3cret-token"
    await attack.stop()
    attack.bot = await start_bot_process(
        attack.api.base_url,
        attack.database,
        attack.log,
        ORGANISER_IDS=str(ORGANISER),
        WEBHOOK_URL="https://bot.example.org/hook",
        WEBHOOK_SECRET=secret,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        LOG_LEVEL="DEBUG",
    )
    url = f"http://127.0.0.1:{port}/hook"
    async with ClientSession() as http:
        for _ in range(100):
            with contextlib.suppress(OSError):
                async with http.post(url, data=b"{}"):
                    break
            await asyncio.sleep(0.2)
        good = {"X-Telegram-Bot-Api-Secret-Token": secret}

        async def post(body: bytes, headers: dict | None = None) -> int:
            async with http.post(url, data=body, headers=headers or good) as response:
                return response.status

        typed = "webhook-body-canary SW1A 1AA"
        attack.typed.append(typed)
        update = {
            "update_id": 900_001,
            "message": attack.message(private(SUPPORTER), typed, person(SUPPORTER)),
        }
        attack.check(
            "webhook without the secret",
            "403",
            await post(json.dumps(update).encode(), {"X": "y"}) == 403,
        )
        attack.check(
            "webhook with a wrong secret",
            "403",
            await post(json.dumps(update).encode(), {"X-Telegram-Bot-Api-Secret-Token": "no"})
            == 403,
        )
        attack.check(
            "webhook body that is not JSON",
            "400",
            (s := await post(b'{"update_id": 1, "message": ' + typed.encode())) == 400,
            str(s),
        )
        attack.check(
            "webhook JSON that is a list", "400", (s := await post(b"[1, 2]")) == 400, str(s)
        )
        big = json.dumps({"update_id": 900_002, "message": {"text": "x" * 20_000_000}}).encode()
        began = time.monotonic()
        try:
            s = await post(big)
        except Exception as error:  # a server may cut the connection instead of answering
            s = type(error).__name__
        attack.check(
            "webhook body of 20 MB",
            "refused at once, unread",
            s in (400, 413, "ServerDisconnectedError", "ClientOSError")
            and time.monotonic() - began < 5,
            f"{s}",
        )
        mark = attack.mark()
        body = json.dumps(
            {
                "update_id": 900_010,
                "message": attack.message(private(SUPPORTER), "/help", person(SUPPORTER)),
            }
        ).encode()
        first, second = await post(body), await post(body)
        await asyncio.sleep(3)
        helps = [t for t in attack.texts(mark, SUPPORTER) if "999" in t]
        attack.check(
            "Telegram delivering the same update twice to the webhook",
            "answered once",
            first == second == 200 and len(helps) == 1,
            f"{first} {second}, {len(helps)} answers",
        )
        # A slow client: sends headers and then nothing; the server must still answer others.
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        head = f"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n{SECRET_HEADER}: "
        writer.write(f"{head}{secret}\r\n\r\n{{".encode())
        await writer.drain()
        mark = attack.mark()
        body = json.dumps(
            {
                "update_id": 900_011,
                "message": attack.message(private(SUPPORTER), "/help", person(SUPPORTER)),
            }
        ).encode()
        status = await asyncio.wait_for(post(body), 10)
        await asyncio.sleep(2)
        attack.check(
            "a slow client holding a webhook connection open",
            "others still served",
            status == 200 and any("999" in t for t in attack.texts(mark, SUPPORTER)),
        )
        writer.close()
        poll_bad = {
            "update_id": 900_012,
            "message": attack.message(
                private(SUPPORTER), None, person(SUPPORTER), poll=old_poll("q")
            ),
        }
        attack.check(
            "webhook update the library cannot read",
            "200, skipped",
            await post(json.dumps(poll_bad).encode()) == 200,
        )
    await attack.stop()


class KillingBotApi(FakeBotApi):
    """The fake Bot API that can kill the bot (SIGKILL) the moment a request for `kill_at`
    arrives, before answering it: the bot dies with that call in flight. A getUpdates that
    would confirm the update `unconfirmed` is held on its way (a slow network) until that is
    cleared: the update is handled, but Telegram serves it again to the next process."""

    kill_at: str | None = None
    bot: asyncio.subprocess.Process | None = None
    unconfirmed: int | None = None  # an update whose confirmation is held on its way

    def _answer(self, method, chat_id, params, arrived):
        if method == self.kill_at and self.bot and self.bot.returncode is None:
            self.kill_at = None
            self.bot.kill()
        return super()._answer(method, chat_id, params, arrived)

    async def _get_updates(self, params):
        if self.unconfirmed is None or int(params.get("offset") or 0) <= self.unconfirmed:
            return await super()._get_updates(params)
        while self.unconfirmed is not None:
            await asyncio.sleep(0.05)
        return []  # the process that asked died meanwhile: its offset never arrived


def database_bytes(database: Path) -> bytes:
    return b"".join(
        path.read_bytes() for path in (database, Path(f"{database}-wal")) if path.exists()
    )


async def kill_during_forget(attack: Attack) -> None:
    """/forget confirmed, the bot killed as it answers the button (before the data goes) and as
    it deletes the chat's messages (after): either way a press again, late, erases everything."""
    for index, moment in enumerate(("answerCallbackQuery", "deleteMessages")):
        user_id = 600 + index
        canary = f"CanaryOfSupporter{user_id}Solidarity"
        attack.typed.append(canary)
        await onboard(attack, user_id)
        attack.say(user_id, "/start solidarity")
        await attack.settle(what="solidarity")
        for step in ("solidarity:write", canary, "solidarity:anonymous", "solidarity:send"):
            if ":" in step:
                attack.press(user_id, step)
            else:
                attack.say(user_id, step)
            await attack.settle(what=step)
        stored = canary.encode() in database_bytes(attack.database)
        attack.say(user_id, "/forget")
        await attack.settle(what="/forget")
        attack.api.kill_at, attack.api.bot = moment, attack.bot
        attack.press(user_id, "forget:yes")
        await attack.bot.wait()
        await attack.start()
        mark = attack.mark()
        attack.press(user_id, "forget:yes", late=True)
        await attack.settle(what="forget again")
        said = attack.texts(mark, user_id)
        gone = attack.rows(f"SELECT count(*) FROM supporters WHERE user_id = {user_id}") == 0
        await attack.stop()  # its checkpoint done, the files are what they will stay
        erased = canary.encode() not in database_bytes(attack.database)
        await attack.start()
        attack.check(
            f"kill -9 at /forget's {moment}, then forget:yes pressed again late",
            "erased from the tables and the .db/-wal bytes, no apology",
            stored and gone and erased and not any(GENERIC in t for t in said),
            f"stored {stored} gone {gone} erased {erased} said {said[:1]}",
        )


async def kill_during_migrations(attack: Attack) -> None:
    """An older database (the last migration not yet applied) upgraded by a start killed at
    different moments; each time started again: it upgrades, stays whole and answers."""
    await attack.stop()
    for delay in (0.3, 0.7, 1.1, 1.5, 2.0):
        with contextlib.closing(sqlite3.connect(attack.database)) as db:
            last = db.execute("SELECT name FROM _sqlite_migrations ORDER BY id DESC").fetchone()[0]
        undo_last_migration(attack.database)
        attack.bot = await start_bot_process(
            attack.api.base_url, attack.database, attack.log, ORGANISER_IDS=str(ORGANISER)
        )
        await asyncio.sleep(delay)
        attack.bot.kill()
        await attack.bot.wait()
        await attack.start()
        mark = attack.mark()
        attack.say(SUPPORTER, "/help")
        await attack.settle(what="help")
        await attack.stop()
        with contextlib.closing(sqlite3.connect(attack.database)) as db:
            whole = db.execute("PRAGMA integrity_check").fetchone()[0]
            applied = db.execute(
                "SELECT count(*) FROM _sqlite_migrations WHERE name = ?", [last]
            ).fetchone()[0]
        partial = [p.name for p in attack.workdir.glob("backups/*") if p.suffix != ".db"]
        attack.check(
            f"kill -9 {delay} s into a start that upgrades the database",
            "the next start upgrades it, integrity ok, answers; no half backup named as one",
            whole == "ok" and applied == 1 and any("999" in t for t in attack.texts(mark)),
            f"integrity {whole}, applied {applied}, leftovers {partial}",
        )
    await attack.start()


def undo_last_migration(database: Path) -> None:
    """Make the database look as it was before the newest migration (which adds one table)."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        name = db.execute("SELECT name FROM _sqlite_migrations ORDER BY id DESC").fetchone()[0]
        table = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid DESC"
        ).fetchone()[0]
        db.execute(f"DROP TABLE [{table}]")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [name])
        db.commit()


def seed_big_campaign(database: Path) -> None:
    """A campaign grown large: 20,000 supporters and 100,000 actions (bench.generate), 40
    broadcasts scheduled, 50 long solidarity messages waiting, 400 RSVPs to a lobby day from as
    many constituencies and as many stories, and 300 tracked posts."""
    from bench.generate import generate
    from bot.delivery import create_broadcast
    from bot.storage import Storage

    generate(database, supporters=20_000, actions=100_000)
    storage = Storage.open(database)
    long_text = "Solidarity & <strength> to every woman in a refuge. " * 11  # 600 characters
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    for number in range(40):
        create_broadcast(storage, texts={"en": f"{number} {long_text}"[:4000]}, scheduled_for=later)
    for user_id in range(1, 51):
        storage.add_solidarity_message(user_id, long_text[:600], "A" * 60, "en")
    event = storage.create_lobby_event(
        texts={"title": {"en": "T" * 120}, "place": {"en": "P" * 300}, "bring": {"en": "B" * 500}},
        starts_at=later,
        rsvp_deadline=later,
        hashtag="#masslobby",
        created_by=ORGANISER,
    )
    mp = {"member_id": 1, "name": "Jane Example", "party": "Independent"}
    for user_id in range(1, 401):
        constituency = (f"E14{user_id:06d}", f"Constituency with a long name number {user_id}")
        storage.save_rsvp(event, user_id, constituency=constituency, mp=mp)
        storage.add_lobby_story(event, user_id, long_text[:600], "A" * 60, "en")
    posts = [
        {
            "post_id": str(number),
            "author": "someone",
            "text": long_text,
            "url": f"https://x.com/someone/status/{number}",
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            **dict.fromkeys(("likes", "reposts", "replies", "quotes"), number),
        }
        for number in range(300)
    ]
    storage.save_hashtag_posts("x", "#16Days", posts)
    storage.checkpoint()
    storage.close()


async def outputs_that_grow(attack: Attack) -> None:
    """Every organiser screen that lists things, and /mydata, with a campaign grown large."""
    await attack.stop()
    small, attack.database = attack.database, attack.workdir / "big.db"
    seed_big_campaign(attack.database)
    await attack.start()
    screens = ["/stats", "/export", "/moderate", "/broadcast list", "/lobby", "/trends"]
    screens += ["/schedule", "/mydata"]
    for command in screens:
        user_id = ORGANISER if command != "/mydata" else 1
        mark = attack.mark()
        attack.say(user_id, command)
        await attack.answered(user_id, mark, what=command)
        for data in attack.buttons(user_id, mark):
            if data.startswith(("lobbyadm:show:", "lobbyadm:stories:")):
                pressed = attack.mark()
                attack.press(user_id, data)
                await attack.answered(user_id, pressed, what=data)
        said = attack.texts(mark, user_id)
        refused = [(r.method, r.status) for r in attack.refused(mark)]
        attack.check(
            f"{command} with a campaign grown large",
            "shown within Telegram's limits (nothing refused), no apology",
            bool(said) and not refused and not any(GENERIC in t for t in said),
            f"refused {refused}, said {[t[:60] for t in said[-2:]]}",
        )
    await attack.stop()
    attack.database = small
    await attack.start()


# --- SIGTERM at awkward moments, and updates delivered again --------------------------------

STOP_WITHIN = 5.0  # seconds from SIGTERM to exit (D11)
SOLIDARITY_PREVIEW = (
    "/start solidarity",
    "solidarity:write",
    "Strength and love to every woman in a refuge",
    "solidarity:anonymous",
)
MP_NAME_STEP = ("/start mp", "mp:find", "SW1A 1AA")
MP_LETTER = (*MP_NAME_STEP, "mp:skip:name", "mp:skip:sentence")
SENDING_TEXT = "<b>Attack</b>: one organiser broadcast for every supporter"
SENDING_TO = range(100_001, 101_501)


async def terminate(attack: Attack) -> float:
    """SIGTERM, as systemd, Docker and `kill` stop the bot; the seconds until it exited."""
    began = time.monotonic()
    attack.bot.terminate()
    await asyncio.wait_for(attack.bot.wait(), 60)
    return time.monotonic() - began


async def take_steps(attack: Attack, user_id: int, steps: tuple[str, ...]) -> None:
    """Each step in turn, a button (`area:what`) pressed or a text sent, and answered."""
    for step in steps:
        mark = attack.mark()
        if ":" in step and " " not in step:
            attack.press(user_id, step)
        else:
            attack.say(user_id, step)
        deadline = time.monotonic() + 60  # the first preview reads the card fonts: seconds
        while not attack.texts(mark, user_id) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await attack.settle(what=step)


async def sigterm_mid_journeys(attack: Attack) -> None:
    """SIGTERM with one supporter at the solidarity preview, one at the MP letter's name step
    and one whose postcode lookup hangs: the bot exits in time, nobody is left unanswered, and
    after the restart each carries on where they were."""
    writer, letter, waiting = 710, 711, 712
    for user_id, steps in ((writer, SOLIDARITY_PREVIEW), (letter, MP_NAME_STEP)):
        await onboard(attack, user_id)
        await take_steps(attack, user_id, steps)
    await onboard(attack, waiting)
    await take_steps(attack, waiting, MP_NAME_STEP[:2])
    attack.lookups.failure = "hang"
    mark = attack.mark()
    attack.say(waiting, "SW1A 1AA")
    await asyncio.sleep(0.3)  # the lookup is under way, and hangs
    took = await terminate(attack)
    attack.lookups.failure = None
    print(f"     exited {took:.2f} s after the SIGTERM", flush=True)
    await attack.start()
    attack.check(
        "SIGTERM with supporters mid-journey and a postcode lookup hanging",
        f"exits within {STOP_WITHIN:.0f} s",
        took < STOP_WITHIN,
        f"{took:.1f} s",
    )
    answered = attack.texts(mark, waiting)
    attack.check(
        "the supporter whose lookup hung at the SIGTERM",
        "answered (WriteToThem), not left waiting",
        any("writetothem" in t.lower() for t in answered),
        f"said {[t[:60] for t in answered]}",
    )
    mark = attack.mark()
    attack.press(writer, "solidarity:send")
    attack.say(letter, "Ana")
    await attack.settle(what="after the SIGTERM")
    queued = attack.rows(f"SELECT count(*) FROM solidarity_messages WHERE user_id = {writer}")
    attack.check(
        "the solidarity preview's Send, pressed after a SIGTERM and a restart",
        "the message queued once, and thanks",
        queued == 1 and any("with the organisers" in t for t in attack.texts(mark, writer)),
        f"{queued} queued, said {attack.texts(mark, writer)[:1]}",
    )
    attack.check(
        "a name typed at the MP letter's name step after a SIGTERM and a restart",
        "taken: the next step (the sentence, skippable)",
        "mp:skip:sentence" in attack.buttons(letter, mark),
        f"said {attack.texts(mark, letter)[:1]}",
    )


async def seed_sending(database: Path) -> int:
    """1,500 supporters who chose the daily prompt and updates, and an organiser's broadcast to
    them already under way; returns its id."""
    from bot.delivery import create_broadcast, enqueue
    from bot.storage import Storage
    from bot.storage.supporters import DAILY_PROMPT, UPDATES, WHATS_NEXT
    from tests.support.crash_suite import SEED_RULES

    storage = Storage.open(database)
    storage.ensure_supporter(ORGANISER, "en")
    for user_id in SENDING_TO:
        storage.ensure_supporter(user_id, "en")
        storage.set_consents(
            user_id, dict.fromkeys((DAILY_PROMPT, UPDATES, WHATS_NEXT), True), "v1"
        )
    broadcast_id = create_broadcast(storage, texts={"en": SENDING_TEXT}, created_by=ORGANISER)
    await enqueue(storage, broadcast_id, SEED_RULES)
    storage.close()
    return broadcast_id


def sent_to_supporters(attack: Attack) -> tuple[Counter[int], Counter[int]]:
    """Messages Telegram took for each of SENDING_TO: the broadcast's, and the daily prompt's."""
    broadcast, prompt = Counter(), Counter()
    for r in attack.api.sends():
        if r.status == 200 and r.chat_id in SENDING_TO:
            (broadcast if r.params.get("text") == SENDING_TEXT else prompt)[r.chat_id] += 1
    return broadcast, prompt


async def sigterm_mid_sending(attack: Attack) -> None:
    """SIGTERM while today's daily prompt and an organiser's broadcast go out together: the
    bot exits in time with its batches recorded, and the next start finishes both, with a new
    progress message and the final report to the organiser."""
    from tests.support.crash_suite import local_today, write_campaign

    await attack.stop()
    kept, attack.database = attack.database, attack.workdir / "sending.db"
    write_campaign(attack.workdir / "today.toml", local_today())
    broadcast_id = await seed_sending(attack.database)
    env = {"CAMPAIGN_FILE": str(attack.workdir / "today.toml"), "BROADCAST_RATE": "100"}
    env["PAID_BROADCASTS"] = "true"
    await attack.launch(**env)
    deadline = time.monotonic() + 120
    while sum(c.total() for c in sent_to_supporters(attack)) < 600:
        if time.monotonic() > deadline:
            raise RuntimeError("the sending never got going")
        await asyncio.sleep(0.05)
    took = await terminate(attack)
    in_flight = attack.rows("SELECT count(*) FROM deliveries WHERE status = 'sending'")
    running = attack.rows("SELECT count(*) FROM broadcasts WHERE status = 'running'")
    mark = attack.mark()
    await attack.launch(**env)
    deadline = time.monotonic() + 240
    while attack.rows("SELECT count(*) FROM broadcasts WHERE status = 'running'"):
        if time.monotonic() > deadline:
            raise RuntimeError("the sending never finished after the restart")
        await asyncio.sleep(0.5)
    await attack.settle(what="the final report", chat_id=ORGANISER)
    broadcast, prompt = sent_to_supporters(attack)
    everyone = set(SENDING_TO)
    duplicates = broadcast.total() + prompt.total() - 2 * len(everyone)
    print(
        f"     exited {took:.2f} s after the SIGTERM, {in_flight} sends in flight, "
        f"{duplicates} duplicates after the restart",
        flush=True,
    )
    attack.check(
        "SIGTERM while the daily prompt and a broadcast go out to 1,500 supporters",
        f"exits within {STOP_WITHIN:.0f} s, both left running to resume",
        took < STOP_WITHIN and running == 2,
        f"{took:.1f} s, {running} running",
    )
    attack.check(
        "the start after that SIGTERM",
        "finishes both: everyone served, duplicates no more than the sends in flight",
        set(broadcast) == set(prompt) == everyone and duplicates <= in_flight,
        f"{len(broadcast)}, {len(prompt)} served, {duplicates} duplicates, {in_flight} in flight",
    )
    told = attack.texts(mark, ORGANISER)
    attack.check(
        "the organiser whose broadcast was cut by the SIGTERM",
        "a new progress message and the final report",
        any(f"Sending broadcast #{broadcast_id}" in t for t in told)
        and any(f"Broadcast #{broadcast_id} finished" in t for t in told),
        f"told {[t[:50] for t in told]}",
    )
    await attack.stop()
    attack.database = kept
    await attack.start()


async def delivered_again(attack: Attack) -> None:
    """A supporter's press handled, the bot killed (kill -9) as it answers, before the
    getUpdates confirming the press reached Telegram: the next process is given the same update
    again. A signature, a letter and a solidarity message each still count once."""
    cases = (
        (
            "I've signed",
            ("/start petition",),
            "petition:signed",
            "SELECT count(*) FROM actions WHERE user_id = {} AND kind = 'petition_signed'",
        ),
        (
            "I've sent it (the MP letter)",
            MP_LETTER,
            "mp:sent",
            "SELECT count(*) FROM mp_followups WHERE user_id = {}",
        ),
        (
            "Send (a solidarity message)",
            SOLIDARITY_PREVIEW,
            "solidarity:send",
            "SELECT count(*) FROM solidarity_messages WHERE user_id = {}",
        ),
    )
    for index, (button, steps, data, counted) in enumerate(cases):
        user_id = 720 + index
        await onboard(attack, user_id)
        await take_steps(attack, user_id, steps)
        attack.api.kill_at, attack.api.bot = "answerCallbackQuery", attack.bot
        attack.api.unconfirmed = attack.press(user_id, data)
        await attack.bot.wait()
        attack.api.unconfirmed = attack.api.kill_at = None
        mark = attack.mark()
        await attack.start()
        said = attack.texts(mark, user_id)
        recorded = attack.rows(counted.format(user_id))
        attack.check(
            f"{button} pressed, the bot killed as it answers, the press delivered again",
            "recorded once, answered, no apology",
            recorded == 1 and said and not any(GENERIC in t for t in said),
            f"recorded {recorded}, said {[t[:50] for t in said]}",
        )


async def typed_again(attack: Attack) -> None:
    """A solidarity message typed and handled to the end, the bot killed before the getUpdates
    confirming it reached Telegram: given again at the next start, it is not taken a second
    time, as the signature."""
    user_id, body = 730, "We stand with every survivor"
    await onboard(attack, user_id)
    await take_steps(attack, user_id, SOLIDARITY_PREVIEW[:2])
    update_id = attack.api.unconfirmed = attack.say(user_id, body)
    deadline = time.monotonic() + 60
    handled = f"SELECT count(*) FROM handled_updates WHERE update_id = {update_id}"
    while not attack.rows(handled):  # its answer sent, its state saved, all done
        if time.monotonic() > deadline:
            raise RuntimeError("the typed message was never handled")
        await asyncio.sleep(0.1)
    attack.bot.kill()
    await attack.bot.wait()
    attack.api.unconfirmed = None
    await attack.start()
    await take_steps(attack, user_id, ("solidarity:anonymous", "solidarity:send"))
    with contextlib.closing(sqlite3.connect(attack.database)) as db:
        rows = db.execute(
            "SELECT body, signature FROM solidarity_messages WHERE user_id = ?", [user_id]
        ).fetchall()
    attack.check(
        "a solidarity message typed, handled, the bot killed, the message delivered again",
        "taken once: queued as the message, unsigned, not also as its signature",
        rows == [(body, None)],
        f"{rows}",
    )


async def sigterm_and_again(attack: Attack) -> None:
    await restart(attack)  # as polling starts it: the part before may have left it stopped
    await sigterm_mid_journeys(attack)
    await delivered_again(attack)
    await typed_again(attack)
    await sigterm_mid_sending(attack)


async def shared_chats_and_a_restart(attack: Attack) -> None:
    await chats_that_are_not_private(attack, restarted=False)
    await restart(attack)
    await chats_that_are_not_private(attack, restarted=True)


PARTS = {
    "chats": shared_chats_and_a_restart,
    "presses": late_and_repeated_presses,
    "forged": forged_buttons,
    "not-text": not_text_where_text_is_expected,
    "services": outside_services_failing,
    "unreadable": unreadable_updates,
    "big": outputs_that_grow,
    "forget": kill_during_forget,
    "migrations": kill_during_migrations,
    "webhook": webhook,
    "sigterm": sigterm_and_again,
}


def seed_lobby_day(database: Path) -> None:
    from bot.storage import Storage

    storage = Storage.open(database)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    storage.create_lobby_event(
        texts={"title": {"en": "Mass lobby"}, "place": {"en": "Westminster Hall"}},
        starts_at=soon,
        rsvp_deadline=soon - dt.timedelta(days=1),
        hashtag="#masslobby",
        created_by=ORGANISER,
    )
    storage.close()


async def run(workdir: Path, only: str | None = None) -> list[Finding]:
    async with KillingBotApi() as api:
        lookups = Lookups()
        await lookups.start()
        attack = Attack(workdir, api, lookups)
        try:
            seed_lobby_day(attack.database)
            await attack.start()
            for name, part in PARTS.items():
                if only in (None, name):
                    await part(attack)
            logs_clean(attack)
        finally:
            await attack.stop()
            await lookups.runner.cleanup()
    return attack.findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the database and log in this folder")
    parser.add_argument("--only", choices=PARTS, help="run only this part")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        findings = asyncio.run(run(args.keep, args.only))
    else:
        with tempfile.TemporaryDirectory(prefix="attack-") as workdir:
            findings = asyncio.run(run(Path(workdir), args.only))
    failed = [f for f in findings if not f.ok]
    print(f"{len(findings) - len(failed)} of {len(findings)} held")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
