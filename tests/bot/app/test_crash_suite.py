"""D1, D6, S1, S2, S3 under repeated kill -9: the crash suite (bench/crash_suite.py) with small
numbers. Twenty times the real bot process (`python -m bot run`) is killed with SIGKILL, while it
sends an organiser's broadcast or today's daily prompt or just after it started, with supporters
half-way through the solidarity journey, and restarted against the loopback fake Bot API. Two
bots run side by side (each its own database and fake API, ten cycles each) to keep this under a
minute: a restart costs the process's start-up plus the two seconds before the job at start."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import crash_suite
from tests.support.crash_suite import AT_START_UP, BROADCAST, PROMPT, Report, Scale

SCALE = Scale(
    cycles=20,
    lanes=2,
    recipients=300,
    journeys_per_cycle=2,  # two, so their updates interleave as several people's do
    rate=100.0,  # batches of 100: up to 100 sends in flight at a kill
    startup_kills=0.5,
)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Report:
    """One run of the suite, shared by every test here (it takes most of a minute)."""
    result = asyncio.run(crash_suite.run(SCALE, tmp_path_factory.mktemp("crash-suite")))
    if result.date_changed:
        pytest.skip("the run crossed midnight in Europe/London, so today's prompt changed")
    return result


def test_kills_landed_in_the_broadcast_in_todays_prompt_and_at_start_up(report):
    assert len(report.kills) >= 20
    landed = {kill.landed_in for kill in report.kills}
    assert {BROADCAST, PROMPT, AT_START_UP} <= landed


def test_the_database_is_intact_after_every_kill(report):
    assert [lane.integrity for lane in report.lanes] == ["ok"] * SCALE.lanes


def test_every_opted_in_supporter_got_the_broadcast_and_todays_prompt(report):
    for lane in report.lanes:
        for send in lane.sends:
            assert send.served == send.recipients == SCALE.recipients, send.name
            assert (send.status, send.summary) == ("done", {"sent": SCALE.recipients}), send.name


def test_duplicates_are_no_more_than_the_sends_in_flight_at_the_kills(report):
    for lane in report.lanes:
        for send in lane.sends:
            assert send.duplicates <= send.in_flight_at_kills, send.name


def test_nobody_gets_another_days_prompt_or_anything_without_opting_in(report):
    assert [lane.other_day_prompts for lane in report.lanes] == [0] * SCALE.lanes
    assert [lane.to_others for lane in report.lanes] == [0] * SCALE.lanes


def test_supporters_half_way_through_the_journey_carry_on_after_the_restart(report):
    for lane in report.lanes:
        assert lane.halfway_at_kill == len(lane.kills) * SCALE.journeys_per_cycle
        assert lane.continued == lane.halfway_at_kill, "a typed message was lost at a restart"
        assert lane.stored_once == lane.continued, "a message was not queued exactly once"
        assert lane.drafts_left == 0, "a message handed over was still kept as a draft"
