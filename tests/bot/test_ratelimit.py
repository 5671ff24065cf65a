"""The rate limiter keeps Telegram's limits as a promise and answers supporters first (D3, D10).

`RatePlan` takes the time as an argument, so these tests drive it with a clock of their own:
nothing here waits, and nothing depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram.error import NetworkError, RetryAfter

from bot.ratelimit import (
    BULK,
    FOLLOW_UP,
    REPLY,
    PriorityRateLimiter,
    RatePlan,
    Turn,
    Waiter,
    new_update,
    reply_priority,
)

EPSILON = 1e-9  # the simulated clock adds floats


@dataclass
class Arrival:
    at: float
    priority: int = REPLY
    chat_id: int | str = 1
    message: bool = True
    paid: bool = False


def drive(
    plan: RatePlan, arrivals: list[Arrival], late: float = 0.0
) -> list[tuple[float, Arrival]]:
    """Play `arrivals` through the plan on a simulated clock, each wake-up `late` seconds after
    the moment the plan asked for (a busy event loop); returns each request's start time, in the
    order they started."""
    pending = sorted(arrivals, key=lambda arrival: arrival.at)
    by_waiter: dict[int, Arrival] = {}
    started: list[tuple[float, Arrival]] = []
    now, next_at = 0.0, None
    while pending or plan.waiting:
        upcoming = (None if next_at is None else next_at + late, pending[0].at if pending else None)
        candidates = [moment for moment in upcoming if moment is not None]
        now = max(now, min(candidates, default=now))
        while pending and pending[0].at <= now:
            arrival = pending.pop(0)
            waiter = plan.add(
                arrival.priority,
                chat_id=arrival.chat_id,
                message=arrival.message,
                paid=arrival.paid,
            )
            by_waiter[id(waiter)] = arrival
        went, next_at = plan.start(now)
        started += [(now, by_waiter[id(waiter)]) for waiter in went]
    return started


def busiest_window(times: list[float], period: float = 1.0) -> int:
    """The most starts in any half-open window of `period` seconds."""
    times = sorted(times)
    counts = (
        sum(1 for other in times[index:] if other < start + period - EPSILON)
        for index, start in enumerate(times)
    )
    return max(counts, default=0)


def test_a_burst_at_start_never_exceeds_the_rate_in_any_second():
    plan = RatePlan(30)
    started = drive(plan, [Arrival(0.0, chat_id=user) for user in range(1, 301)])
    assert len(started) == 300
    assert busiest_window([at for at, _ in started]) == 30
    # spread evenly, and the capacity used: 300 messages take ten seconds, not more
    assert [at for at, _ in started] == pytest.approx([n / 30 for n in range(300)])


@settings(max_examples=60, deadline=None)
@given(
    rate=st.integers(min_value=1, max_value=30),
    arrivals=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=5, allow_nan=False),
            st.sampled_from([REPLY, BULK]),
            st.integers(min_value=1, max_value=8),
        ),
        max_size=120,
    ),
)
def test_no_one_second_window_ever_carries_more_than_the_rate(rate, arrivals):
    plan = RatePlan(rate)
    started = drive(plan, [Arrival(at, priority, chat) for at, priority, chat in arrivals])
    assert len(started) == len(arrivals)
    assert busiest_window([at for at, _ in started]) <= rate
    for chat in {chat for _, _, chat in arrivals}:
        times = sorted(at for at, arrival in started if arrival.chat_id == chat)
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(gap >= 1.0 - EPSILON for gap in gaps)


def test_wake_ups_a_little_late_do_not_slow_a_paid_broadcast():
    plan = RatePlan(1000, paid_broadcasts=True)
    # The event loop's timers fire about a millisecond late: a whole gap at this rate.
    started = drive(plan, [Arrival(0.0, BULK, chat_id=n, paid=True) for n in range(1, 3001)], 0.001)
    times = [at for at, _ in started]
    assert max(times) < 3.01  # 3,000 messages in three seconds, not six
    assert busiest_window(times) <= 1000


def test_after_a_lull_the_next_messages_are_spread_out_again():
    plan = RatePlan(10)
    started = drive(
        plan, [Arrival(0.0, chat_id=1), *(Arrival(5.0, chat_id=n) for n in range(2, 6))]
    )
    assert [at for at, _ in started] == pytest.approx([0.0, 5.0, 5.1, 5.2, 5.3])


def test_a_reply_goes_before_a_queued_broadcast():
    plan = RatePlan(10)
    broadcast = [Arrival(0.0, BULK, chat_id=1000 + n) for n in range(50)]
    reply = Arrival(0.5, REPLY, chat_id=7)
    started = drive(plan, [*broadcast, reply])
    reply_at = next(at for at, arrival in started if arrival is reply)
    # a place every 0.1 s: the reply takes the first one after it came, ahead of the broadcast
    assert reply_at == pytest.approx(0.5)
    assert all(at > reply_at for at, arrival in started[6:])
    assert [arrival for _, arrival in started].index(reply) == 5


def test_in_a_rush_everyone_hears_a_first_word_before_anyone_a_second():
    """Twenty new supporters at once, each welcomed in two messages (the second queued as the
    first goes): the twenty first messages go before any second one, and a second one still
    before a broadcast."""
    plan = RatePlan(10)
    firsts = [Arrival(0.0, REPLY, chat_id=n) for n in range(1, 21)]
    seconds = [Arrival(0.05 + n / 100, FOLLOW_UP, chat_id=n) for n in range(1, 21)]
    broadcast = [Arrival(0.0, BULK, chat_id=1000 + n) for n in range(5)]
    order = [arrival.priority for _, arrival in drive(plan, firsts + seconds + broadcast)]
    assert order == [REPLY] * 20 + [FOLLOW_UP] * 20 + [BULK] * 5


async def test_an_updates_first_message_or_edit_is_its_reply_and_the_rest_follow_up():
    async def handle_update(endpoints):
        new_update()  # as the update processor does, in the update's own task
        return [reply_priority(endpoint) for endpoint in endpoints]

    pressed = ["sendChatAction", "editMessageText", "sendMessage", "sendPhoto"]
    started = ["sendMessage", "sendMessage"]
    assert await asyncio.create_task(handle_update(pressed)) == [REPLY, REPLY, FOLLOW_UP, FOLLOW_UP]
    assert await asyncio.create_task(handle_update(started)) == [REPLY, FOLLOW_UP]
    assert reply_priority("sendMessage") == REPLY  # outside any update: a job's own message


def test_a_broadcast_uses_every_place_replies_leave():
    plan = RatePlan(10)
    broadcast = [Arrival(0.0, BULK, chat_id=1000 + n) for n in range(40)]
    replies = [Arrival(0.1 + second, REPLY, chat_id=n) for second, n in enumerate(range(1, 4))]
    started = drive(plan, broadcast + replies)
    # 43 messages at 10 a second, one every 0.1 s: none wasted
    assert max(at for at, _ in started) == pytest.approx(4.2)
    assert busiest_window([at for at, _ in started]) == 10


def test_one_chat_waiting_for_its_second_does_not_hold_up_the_others():
    plan = RatePlan(30)
    first, second = Arrival(0.0, chat_id=1), Arrival(0.0, chat_id=1)
    others = [Arrival(0.0, chat_id=n) for n in range(2, 6)]
    started = dict((id(arrival), at) for at, arrival in drive(plan, [first, second, *others]))
    assert started[id(second)] == pytest.approx(1.0)
    # the others take the next places, 1/30 s apart, without waiting for the second
    assert [started[id(other)] for other in others] == pytest.approx([n / 30 for n in range(1, 5)])


def test_groups_and_channels_get_one_message_every_three_seconds():
    plan = RatePlan(30)
    started = drive(plan, [Arrival(0.0, BULK, chat_id="@campaign") for _ in range(3)])
    assert [at for at, _ in started] == pytest.approx([0.0, 3.0, 6.0])


def test_edits_and_chat_actions_count_towards_the_rate_but_not_the_chats_own_limit():
    plan = RatePlan(2)
    started = drive(plan, [Arrival(0.0, chat_id=1, message=False) for _ in range(4)])
    assert [at for at, _ in started] == pytest.approx([0.0, 0.5, 1.0, 1.5])


def test_after_a_429_nothing_starts_before_retry_after():
    plan = RatePlan(30)
    plan.pause(until=5.0)
    started = drive(plan, [Arrival(0.0, chat_id=n) for n in range(1, 4)])
    assert [at for at, _ in started] == pytest.approx([5.0, 5.0 + 1 / 30, 5.0 + 2 / 30])


def test_above_30_a_second_needs_paid_broadcasts():
    with pytest.raises(ValueError, match="paid broadcasts"):
        RatePlan(100)


def test_with_paid_broadcasts_only_paid_messages_go_above_30_a_second():
    plan = RatePlan(100, paid_broadcasts=True)
    paid = [Arrival(0.0, BULK, chat_id=1000 + n, paid=True) for n in range(200)]
    replies = [Arrival(0.0, REPLY, chat_id=n) for n in range(1, 61)]
    started = drive(plan, paid + replies)
    assert 30 < busiest_window([at for at, _ in started]) <= 100
    assert busiest_window([at for at, arrival in started if not arrival.paid]) == 30


def test_a_caller_that_gave_up_loses_its_place_without_taking_one():
    plan = RatePlan(1)
    loop = asyncio.new_event_loop()
    try:
        gone = loop.create_future()
        plan.add(REPLY, chat_id=1, message=True, future=gone)
        gone.cancel()
        kept = plan.add(REPLY, chat_id=2, message=True)
        went, _ = plan.start(0.0)
    finally:
        loop.close()
    assert went == [kept]
    assert isinstance(kept, Waiter)


async def test_a_429_is_waited_out_and_the_request_tried_again():
    limiter = PriorityRateLimiter(30, max_retries=2)
    calls = []

    async def send(text):
        calls.append(text)
        if len(calls) == 1:
            raise RetryAfter(0)
        return {"text": text}

    result = await limiter.process_request(
        send, ("hello",), {}, "sendMessage", {"chat_id": 5}, None
    )
    assert result == {"text": "hello"}
    assert calls == ["hello", "hello"]


async def test_typing_telegrams_servers_refused_is_not_tried_again():
    """"typing…" before an MP lookup: a 502 on it must not hold the lookup for the seconds a
    reply's new tries take (tests/handlers/test_common.py)."""
    limiter = PriorityRateLimiter(30)
    calls = []

    async def show_typing():
        calls.append("typing")
        raise NetworkError("Bad Gateway")

    with pytest.raises(NetworkError):
        await limiter.process_request(show_typing, (), {}, "sendChatAction", {"chat_id": 5}, None)
    assert calls == ["typing"]


async def test_a_request_without_a_chat_is_never_held():
    """Answering a button press (no chat id) must not wait behind a 429's pause."""
    limiter = PriorityRateLimiter(30)
    limiter.plan.pause(until=asyncio.get_running_loop().time() + 3600)

    async def answer():
        return True

    assert await limiter.process_request(answer, (), {}, "answerCallbackQuery", {}, None)


async def test_a_reply_overtakes_broadcast_messages_already_waiting_in_the_limiter():
    """As the bot sends: a broadcast's or daily prompt's messages carry a `Turn`, a supporter's
    reply nothing, and the reply, queued after them, goes right after the one already started."""
    limiter = PriorityRateLimiter(30)
    sent: list[str] = []

    async def send(name):
        sent.append(name)
        return True

    def request(name, chat_id, rate_limit_args=None):
        data = {"chat_id": chat_id}
        return asyncio.create_task(
            limiter.process_request(send, (name,), {}, "sendMessage", data, rate_limit_args)
        )

    broadcast = [request(f"broadcast {n}", 100 + n, Turn(lambda: None)) for n in range(3)]
    await asyncio.sleep(0)  # the broadcast's messages are waiting for their turns
    await asyncio.gather(*broadcast, request("reply", 7))
    assert sent == ["broadcast 0", "reply", "broadcast 1", "broadcast 2"]


def test_without_telegrams_own_limits_only_the_overall_rate_holds():
    """For a fake Bot API with no per-chat limit: one chat's messages go back to back."""
    plan = RatePlan(100, paid_broadcasts=True, telegram_limits=False)
    started = drive(plan, [Arrival(0.0, chat_id=1) for _ in range(150)])
    assert busiest_window([at for at, _ in started]) == 100
    assert [at for at, _ in started][:3] == pytest.approx([0.0, 0.01, 0.02])
