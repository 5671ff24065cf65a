"""Organiser figures: each one checked against a small campaign counted by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from bot import delivery
from bot.app import cli
from bot.consent import FOLLOWUP_KIND
from bot.stats import export_csvs, gather_stats, stats_days
from tests.support.figures import (
    ANA,
    NOW,
    ORGANISER,
    OTHER_SEAT,
    SEAT,
    action,
)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# --- the figures ------------------------------------------------------------------------------


def test_supporters_count_everyone_and_subscribed_leaves_out_the_blocked(stats):
    assert stats.supporters == 6
    assert stats.subscribed == 3  # Ana, Dora, Eva; Bea opted in but blocked the bot
    assert stats.by_language == {"en": 4, "pt": 1, "es": 1}


def test_new_supporters_per_utc_day_from_the_campaigns_first_day(stats):
    days = stats.new_per_day
    # The campaign started on the 25th: no run of empty days before it, though Eva joined earlier.
    assert list(days) == [day("2026-11-25"), day("2026-11-26"), day("2026-11-27")]
    # Bea joined one second before midnight, Carla at midnight.
    assert days[day("2026-11-25")] == 2
    assert days[day("2026-11-26")] == 2
    assert days[day("2026-11-27")] == 1
    assert stats.days == (day("2026-11-25"), day("2026-11-27"))


def test_funnel_counts_people_not_actions(stats):
    assert stats.funnel == {"started": 6, "petition": 3, "mp": 3, "solidarity": 2}


def test_actions_per_day_by_kind(stats):
    per_day = stats.actions_per_day
    assert per_day["petition_signed"][day("2026-11-25")] == 2
    assert per_day["petition_signed"][day("2026-11-26")] == 2
    assert day("2026-11-20") not in per_day["mp_letter_sent"]  # Eva's, before the campaign
    assert per_day["solidarity_posted"][day("2026-11-27")] == 1
    assert per_day["solidarity_written"][day("2026-11-26")] == 1
    assert sum(per_day["shared"].values()) == 1  # Eva's share on the 10th is before it too
    assert sum(sum(days.values()) for days in per_day.values()) == 10


def test_letters_by_constituency_most_first_with_name_and_reported_replies(stats):
    first, second = stats.constituencies
    assert (first.code, first.name, first.letters) == (SEAT, "Ynys Môn & <Anglesey>", 2)
    assert first.replies == {"supportive": 1, "form_letter": 1}
    assert (second.code, second.name, second.letters) == (OTHER_SEAT, "Glasgow North", 1)
    assert second.replies == {}


def test_only_the_top_twenty_constituencies_are_shown(storage, campaign):
    # The n-th of 25 seats gets n letters.
    storage.db["actions"].insert_all(
        action(ANA, "mp_letter_sent", "2026-11-26T10:00:00+00:00", f"E14{1000 + seat:06d}")
        for seat in range(1, 26)
        for _ in range(seat)
    )
    shown = gather_stats(storage, campaign, NOW).constituencies
    assert [seat.letters for seat in shown] == list(range(25, 5, -1))


def test_referrals_count_recruits_per_link_and_per_deep_link(stats):
    referrals = stats.referrals
    assert (referrals.recruits, referrals.links) == (3, 2)
    assert referrals.top_links == (("AAAA", 2), ("BBBB", 1))
    assert referrals.deep_links == {"mp": 1}


def test_last_five_broadcasts_latest_first_with_each_delivery_outcome(stats):
    shown = stats.broadcasts
    assert len(shown) == 5
    assert [b.id for b in shown] == [6, 5, 4, 3, 2]
    assert shown[0].deliveries == {"sent": 2, "blocked": 1, "unknown": 1}
    assert (shown[0].status, shown[0].total) == ("done", 4)


def test_the_letters_follow_up_batches_do_not_crowd_out_the_last_broadcasts(
    campaign_db, campaign
):
    for _ in range(5):  # "Did your MP reply?", asked every half hour as letters come due
        delivery.create_broadcast(
            campaign_db,
            kind=FOLLOWUP_KIND,
            texts={"en": "Did your MP reply?"},
            audience=delivery.Audience(mp_followups=True),
        )
    shown = gather_stats(campaign_db, campaign, NOW).broadcasts
    assert [b.id for b in shown] == [6, 5, 4, 3, 2]
    exported = rows_of(export_csvs(campaign_db, NOW.date())["per_broadcast"])
    assert len(exported) == 11  # every broadcast is still in the export


def test_solidarity_messages_by_status(stats):
    assert stats.solidarity == {"pending": 2, "approved": 1, "rejected": 1}


@pytest.mark.parametrize(
    ("today", "first_supporter", "first", "last"),
    [
        ("2026-11-20", "2026-11-05", "2026-11-05", "2026-11-20"),  # the run-up
        ("2026-11-20", None, "2026-11-20", "2026-11-20"),
        ("2026-12-01", "2026-11-05", "2026-11-25", "2026-12-01"),  # from the campaign's start
        ("2026-12-01", "2026-11-28", "2026-11-28", "2026-12-01"),  # or the first supporter's day
        ("2026-12-01", None, "2026-11-25", "2026-12-01"),
        ("2027-01-15", "2026-11-05", "2026-11-25", "2026-12-10"),  # afterwards: the campaign
    ],
)
def test_days_shown_start_at_the_campaign_or_the_first_supporter_whichever_is_later(
    today, first_supporter, first, last, campaign
):
    shown = stats_days(campaign, day(today), first_supporter and day(first_supporter))
    assert shown == (day(first), day(last))


# --- export -----------------------------------------------------------------------------------


def test_per_day_export_runs_from_the_first_supporter_to_today(campaign_db):
    rows = rows_of(export_csvs(campaign_db, NOW.date())["per_day"])
    assert rows[0]["date"] == "2026-11-10"
    assert rows[-1]["date"] == "2026-11-27"
    assert len(rows) == 18
    by_date = {row["date"]: row for row in rows}
    assert by_date["2026-11-10"]["new_supporters"] == "1"
    assert by_date["2026-11-10"]["shared"] == "1"
    assert by_date["2026-11-25"] == {
        "date": "2026-11-25",
        "new_supporters": "2",
        "petition_signed": "2",
        "mp_letter_sent": "1",
        "solidarity_written": "0",
        "solidarity_posted": "0",
        "shared": "0",
    }


def test_per_constituency_export_has_every_seat_with_letters_and_replies(campaign_db):
    rows = rows_of(export_csvs(campaign_db, NOW.date())["per_constituency"])
    assert rows == [
        {
            "constituency_code": SEAT,
            "constituency_name": "Ynys Môn & <Anglesey>",
            "letters": "2",
            "supportive": "1",
            "unsupportive": "0",
            "form_letter": "1",
            "not_yet": "0",
            "no_reply": "0",
        },
        {
            "constituency_code": OTHER_SEAT,
            "constituency_name": "Glasgow North",
            "letters": "1",
            "supportive": "0",
            "unsupportive": "0",
            "form_letter": "0",
            "not_yet": "0",
            "no_reply": "0",
        },
    ]


def test_per_broadcast_export_has_every_broadcast_with_each_delivery_status(campaign_db):
    rows = rows_of(export_csvs(campaign_db, NOW.date())["per_broadcast"])
    assert [row["broadcast_id"] for row in rows] == ["1", "2", "3", "4", "5", "6"]
    assert rows[0]["failed"] == "1"
    last = rows[-1]
    assert (last["status"], last["total"], last["sent"], last["blocked"]) == ("done", "4", "2", "1")
    assert last["pending"] == "0"


def test_a_broadcast_whose_recipients_are_not_all_found_exports_no_total(campaign_db):
    """Its total column would be the recipients found so far: empty until they all are, and
    for good when it was cancelled before (left preparing here as a slice of one leaves it)."""
    selection = delivery.Audience().selection(None)
    preparing, cancelled = (
        delivery.create_broadcast(campaign_db, texts={"en": "Soon"}) for _ in range(2)
    )
    for broadcast_id in (preparing, cancelled):
        campaign_db.begin_deliveries(broadcast_id)
        assert campaign_db.prepare_deliveries(broadcast_id, selection, 1)
    campaign_db.cancel_broadcast(cancelled)
    rows = rows_of(export_csvs(campaign_db, NOW.date())["per_broadcast"])
    by_id = {row["broadcast_id"]: (row["status"], row["total"]) for row in rows}
    assert by_id[str(preparing)] == ("preparing", "")
    assert by_id[str(cancelled)] == ("cancelled", "")


def test_exports_hold_no_user_id_and_no_referral_code(campaign_db):
    db = campaign_db.db
    people = {row["user_id"] for row in db.query("SELECT user_id FROM supporters")}
    people |= {ORGANISER}
    codes = {row["referral_code"] for row in db.query("SELECT referral_code FROM supporters")}
    codes |= {"AAAA", "BBBB"}
    for name, data in export_csvs(campaign_db, NOW.date()).items():
        content = data.decode("utf-8-sig")
        assert rows_of(data), name
        for secret in {str(user_id) for user_id in people} | codes:
            assert secret not in content, (name, secret)


def test_an_empty_database_exports_headers_only(storage):
    for data in export_csvs(storage, NOW.date()).values():
        assert rows_of(data) == []
        assert data.decode("utf-8-sig").count("\n") == 1


# --- stepup-bot stats -------------------------------------------------------------------------


def test_stats_command_prints_the_figures(campaign_db, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "storage.db"))
    assert cli.main(["stats"]) == 0
    printed = capsys.readouterr().out
    assert "Supporters: 6 · getting the daily prompt: 3" in printed
    assert "Signed the petition: 3" in printed


def test_stats_command_without_a_database_says_which_setting(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "missing.db"))
    assert cli.main(["stats"]) == cli.EXIT_CONFIG
    assert "DATABASE_PATH" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()


# --- lobby days -------------------------------------------------------------------------------


def lobby_day(storage, title: str, starts_at: dt.datetime, rsvps: list[tuple]) -> int:
    """A lobby day and its RSVPs as (user id, constituency, status, request sent, outcome)."""
    event_id = storage.create_lobby_event(
        texts={"title": {"en": title, "pt": f"{title} (pt)"}, "place": {"en": "Westminster"}},
        starts_at=starts_at,
        rsvp_deadline=starts_at,
        hashtag="#masslobby",
        created_by=ORGANISER,
    )
    for user_id, seat, status, request_sent, outcome in rsvps:
        storage.ensure_supporter(user_id, "en")
        storage.save_rsvp(
            event_id,
            user_id,
            constituency=(seat, seat),
            mp={"member_id": hash(seat) % 1000, "name": "An MP", "party": "Labour"},
        )
        if status == "cancelled":
            storage.cancel_rsvp(event_id, user_id)
        if request_sent:
            storage.record_meeting_request(event_id, user_id)
        storage.db.execute(
            "UPDATE lobby_rsvps SET outcome = ? WHERE event_id = ? AND user_id = ?",
            [outcome, event_id, user_id],
        )
    return event_id


@pytest.fixture
def lobbying(storage):
    """Two lobby days and a cancelled one, counted by hand below."""
    lobby_day(
        storage,
        "Mass lobby",
        dt.datetime(2026, 11, 26, 11, tzinfo=dt.UTC),
        [
            (1, "E1", "yes", True, "met_supportive"),
            (2, "E1", "yes", False, "met_staffer"),  # the same MP as the first
            (3, "E2", "yes", True, "met_supportive"),
            (4, "E3", "yes", False, None),
            (5, "E4", "cancelled", True, None),  # said yes, then cancelled
        ],
    )
    storage.cancel_lobby_event(
        lobby_day(storage, "Called off", dt.datetime(2026, 12, 2, 11, tzinfo=dt.UTC), [])
    )
    lobby_day(
        storage,
        "Second lobby",
        dt.datetime(2026, 12, 3, 11, tzinfo=dt.UTC),
        [(6, "E5", "yes", False, None)],
    )
    return storage


def test_lobby_days_count_rsvps_mps_covered_requests_and_meetings_reported(lobbying, campaign):
    second, first = gather_stats(lobbying, campaign, NOW).lobby_days  # latest first
    assert (first.title["en"], first.going, first.mps, first.requests) == ("Mass lobby", 4, 3, 2)
    assert first.reported == 3
    assert dict(first.outcomes) == {"met_supportive": 2, "met_staffer": 1}
    assert (second.title["en"], second.going, second.mps, second.reported) == (
        "Second lobby",
        1,
        1,
        0,
    )


def test_stats_command_prints_the_lobby_figures(lobbying, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "storage.db"))
    assert cli.main(["stats"]) == 0
    printed = capsys.readouterr().out
    assert (
        "Mass lobby, 26 November: going 4 · MPs covered 3 · meeting requests 2"
        " · meetings reported 3"
    ) in printed
    assert "met the MP, supportive 2 · met a staffer 1" in printed
    assert "Called off" not in printed
