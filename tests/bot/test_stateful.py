"""Stateful property test (issue 6): supporters subscribe, stop, forget; organisers broadcast;
the process crashes mid-send and restarts. Whatever the order:

- nobody who has stopped or been forgotten is ever messaged by a broadcast;
- nobody eligible is lost: once every run has finished, each supporter subscribed throughout a
  broadcast has received it;
- forgotten supporters leave nothing behind.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bot import delivery
from bot.app.offline import Call, OfflineBotAPI
from messages import consent, keyboards
from tests.support.harness import Chat, make_settings, running_bot

USERS = st.integers(min_value=1, max_value=3)
MARK = "broadcast-"


class Campaign(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = tempfile.TemporaryDirectory()
        # As many broadcasts a day as the machine likes: the daily cap has its own tests.
        self.settings = make_settings(Path(self.folder.name), broadcasts_per_day=1000)
        self.api = OfflineBotAPI()
        self.api.on_call = self.check_send
        self.subscribed: set[int] = set()
        self.forgotten: set[int] = set()
        # broadcast id -> supporters subscribed from its creation until it finished
        self.owed: dict[int, set[int]] = {}
        self.unfinished: set[int] = set()
        self.violations: list[str] = []
        self.bot_context = None
        self.chat: Chat = self.run(self.start_bot())

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    async def start_bot(self) -> Chat:
        self.bot_context = running_bot(self.settings, self.api)
        return await self.bot_context.__aenter__()

    async def stop_bot(self) -> None:
        await self.bot_context.__aexit__(None, None, None)

    def check_send(self, call: Call) -> None:
        """Every broadcast message, at the moment it is sent, must go to a current subscriber."""
        if (
            call.method == "sendMessage"
            and call.text.startswith(MARK)
            and call.chat_id not in self.subscribed
        ):
            self.violations.append(f"{call.text} reached {call.chat_id}, who is not subscribed")

    def lose_owed(self, user_id: int) -> None:
        for owed in self.owed.values():
            owed.discard(user_id)

    @rule(user_id=USERS)
    def subscribe(self, user_id):
        self.run(self.chat.send(user_id, "/start"))
        self.run(self.chat.press(user_id, consent.OPTIN_BOTH))
        self.subscribed.add(user_id)
        self.forgotten.discard(user_id)

    @rule(user_id=USERS)
    def stop(self, user_id):
        self.run(self.chat.send(user_id, "/stop"))
        self.subscribed.discard(user_id)
        self.lose_owed(user_id)  # and a forgotten person's /stop brings back nothing of them

    @rule(user_id=USERS)
    def forget(self, user_id):
        self.run(self.chat.send(user_id, "/forget"))
        self.run(self.chat.press(user_id, keyboards.FORGET_YES))
        self.subscribed.discard(user_id)
        self.lose_owed(user_id)
        self.forgotten.add(user_id)

    def create(self) -> int:
        broadcast_id = delivery.create_broadcast(
            self.chat.storage, texts={"en": f"{MARK}{len(self.owed)}"}
        )
        self.owed[broadcast_id] = set(self.subscribed)
        return broadcast_id

    @rule()
    def broadcast(self):
        broadcast_id = self.create()
        rules = self.chat.app.bot_data.rules
        self.run(
            delivery.run_broadcast(self.chat.app.bot, self.chat.storage, broadcast_id, rules=rules)
        )

    @rule(claimed=st.integers(min_value=1, max_value=4))
    def crash_mid_broadcast(self, claimed):
        """The process dies with some sends claimed but not recorded (kill -9 mid-batch)."""
        broadcast_id = self.create()
        self.run(delivery.enqueue(self.chat.storage, broadcast_id, self.chat.app.bot_data.rules))
        self.chat.storage.claim_deliveries(broadcast_id, claimed)
        self.unfinished.add(broadcast_id)
        self.restart()

    @rule()
    def restart(self):
        """A new process on the same database; supporters may write before it resumes sends."""
        self.run(self.stop_bot())
        self.chat = self.run(self.start_bot())

    @precondition(lambda self: self.unfinished)
    @rule()
    def resume(self):
        # The restart put what was in flight back in the queue (post_init); now send it.
        storage = self.chat.storage
        rules = self.chat.app.bot_data.rules
        for broadcast_id in storage.running_broadcasts():
            self.run(delivery.run_broadcast(self.chat.app.bot, storage, broadcast_id, rules=rules))
        self.unfinished.clear()

    @invariant()
    def nobody_unsubscribed_was_messaged(self):
        assert self.violations == []

    @precondition(lambda self: not self.unfinished)
    @invariant()
    def nobody_eligible_was_lost(self):
        for broadcast_id, owed in self.owed.items():
            text = f"{MARK}{broadcast_id - 1}"
            reached = {call.chat_id for call in self.api.sent() if call.text == text}
            assert owed <= reached, f"broadcast {broadcast_id} missed {owed - reached}"

    @invariant()
    def forgotten_data_is_gone(self):
        for user_id in self.forgotten:
            assert self.chat.storage.personal_data(user_id) == {}

    def teardown(self):
        self.run(self.stop_bot())
        self.loop.close()
        self.folder.cleanup()


Campaign.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCampaign = Campaign.TestCase
