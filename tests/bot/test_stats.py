"""Organiser figures: each one checked against a small campaign counted by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from bot.app import cli
from bot.campaign import load_campaign
from bot.config import DEFAULT_CAMPAIGN_FILE
from bot.stats import export_csvs, gather_stats, stats_days
from bot.storage import Storage
from messages.i18n import LANGUAGES
from messages.stats import (
    MESSAGE_LIMIT,
    actions_chart,
    format_stats_text,
    render_stats,
    stats_messages,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# 2026-11-25 to 2026-12-10, 16 days.
CAMPAIGN = load_campaign(DEFAULT_CAMPAIGN_FILE)
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
ORGANISER = 900_000_099
ANA, BEA, CARLA, DORA, EVA, FLOR = range(900_000_001, 900_000_007)
SEAT, OTHER_SEAT = "W07000081", "S14000021"


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def supporter(
    user_id, language, created_at, *, opted_in=0, blocked_at=None, source=None, seat=None
):
    return {
        "user_id": user_id,
        "language": language,
        "created_at": created_at,
        "referral_source": source,
        "referral_code": f"code{user_id}",
        "constituency_code": seat,
        "constituency_name": "Ynys Môn & <Anglesey>" if seat == SEAT else None,
        "opted_in": opted_in,
        "blocked_at": blocked_at,
    }


def action(user_id, kind, at, seat=None):
    return {"user_id": user_id, "kind": kind, "at": at, "constituency_code": seat}


@pytest.fixture
def storage(tmp_path):
    storage = Storage.open(tmp_path / "stats.db")
    yield storage
    storage.close()


@pytest.fixture
def campaign_db(storage):
    """Six supporters, their actions, letters, replies, broadcasts and solidarity messages."""
    db = storage.db
    db["supporters"].insert_all(
        [
            supporter(ANA, "en", "2026-11-25T09:00:00+00:00", opted_in=1, seat=SEAT),
            # Blocked the bot: still a supporter, no longer reachable.
            supporter(BEA, "pt", "2026-11-25T23:59:59+00:00", opted_in=1, blocked_at="2026-11-26"),
            supporter(CARLA, "es", "2026-11-26T00:00:00+00:00", source="ref-AAAA"),
            supporter(DORA, "en", "2026-11-26T10:00:00+00:00", opted_in=1, source="ref-AAAA"),
            # Joined before the 16 days /stats shows.
            supporter(EVA, "en", "2026-11-10T10:00:00+00:00", opted_in=1, source="ref-BBBB"),
            supporter(FLOR, "en", "2026-11-27T08:00:00+00:00", source="mp"),
        ]
    )
    db["actions"].insert_all(
        [
            action(ANA, "petition_signed", "2026-11-25T10:00:00+00:00"),
            action(ANA, "mp_letter_sent", "2026-11-25T11:00:00+00:00", SEAT),
            action(ANA, "solidarity_posted", "2026-11-26T09:00:00+00:00"),
            action(ANA, "solidarity_posted", "2026-11-27T09:00:00+00:00"),
            action(ANA, "shared", "2026-11-26T09:30:00+00:00"),
            action(BEA, "petition_signed", "2026-11-25T23:30:00+00:00"),
            action(BEA, "solidarity_written", "2026-11-26T01:00:00+00:00"),
            # Signed twice: one person in the funnel, two actions on the day.
            action(CARLA, "petition_signed", "2026-11-26T05:00:00+00:00"),
            action(CARLA, "petition_signed", "2026-11-26T06:00:00+00:00"),
            action(DORA, "mp_letter_sent", "2026-11-26T12:00:00+00:00", SEAT),
            action(EVA, "mp_letter_sent", "2026-11-20T10:00:00+00:00", OTHER_SEAT),
            action(EVA, "shared", "2026-11-10T11:00:00+00:00"),
        ]
    )
    # Eva's seat is named only by the MP cache.
    storage.save_mp(
        {
            "constituency_key": "glasgow north",
            "constituency_code": OTHER_SEAT,
            "constituency_name": "Glasgow North",
            "member_id": 1,
            "name": "A. Member",
        }
    )
    db["mp_followups"].insert_all(
        [
            {"user_id": ANA, "constituency_code": SEAT, "outcome": "supportive"},
            {"user_id": DORA, "constituency_code": SEAT, "outcome": "form_letter"},
            {"user_id": EVA, "constituency_code": OTHER_SEAT, "outcome": None},
        ]
    )
    broadcasts = [
        storage.create_broadcast(
            kind="broadcast", texts={"en": f"News {n}"}, audience={}, created_by=ORGANISER
        )
        for n in range(6)
    ]
    db["deliveries"].insert_all(
        [
            {"broadcast_id": broadcasts[-1], "user_id": ANA, "status": "sent"},
            {"broadcast_id": broadcasts[-1], "user_id": DORA, "status": "sent"},
            {"broadcast_id": broadcasts[-1], "user_id": EVA, "status": "blocked"},
            {"broadcast_id": broadcasts[-1], "user_id": BEA, "status": "unknown"},
            {"broadcast_id": broadcasts[0], "user_id": ANA, "status": "failed"},
        ]
    )
    db["broadcasts"].update(broadcasts[-1], {"status": "done", "total": 4})
    db["solidarity_messages"].insert_all(
        [
            {"user_id": BEA, "body": "Força", "status": "pending"},
            {"user_id": ANA, "body": "With you", "status": "pending"},
            {"user_id": DORA, "body": "Solidarity", "status": "approved"},
            {"user_id": EVA, "body": "No", "status": "rejected"},
        ]
    )
    return storage


@pytest.fixture
def stats(campaign_db):
    return gather_stats(campaign_db, CAMPAIGN, NOW)


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# --- the figures ------------------------------------------------------------------------------


def test_supporters_count_everyone_and_subscribed_leaves_out_the_blocked(stats):
    assert stats.supporters == 6
    assert stats.subscribed == 3  # Ana, Dora, Eva; Bea opted in but blocked the bot
    assert stats.by_language == {"en": 4, "pt": 1, "es": 1}


def test_new_supporters_per_utc_day_over_sixteen_days_with_empty_days_as_zero(stats):
    days = stats.new_per_day
    assert len(days) == 16
    assert min(days) == day("2026-11-12")
    assert max(days) == day("2026-11-27")
    # Bea joined one second before midnight, Carla at midnight.
    assert days[day("2026-11-25")] == 2
    assert days[day("2026-11-26")] == 2
    assert days[day("2026-11-27")] == 1
    assert sum(days.values()) == 5  # Eva joined before the window


def test_funnel_counts_people_not_actions(stats):
    assert stats.funnel == {"started": 6, "petition": 3, "mp": 3, "solidarity": 2}


def test_actions_per_day_by_kind(stats):
    per_day = stats.actions_per_day
    assert per_day["petition_signed"][day("2026-11-25")] == 2
    assert per_day["petition_signed"][day("2026-11-26")] == 2
    assert per_day["mp_letter_sent"][day("2026-11-20")] == 1
    assert per_day["solidarity_posted"][day("2026-11-27")] == 1
    assert per_day["solidarity_written"][day("2026-11-26")] == 1
    assert sum(per_day["shared"].values()) == 1  # Eva's share on the 10th is outside the window
    assert sum(sum(days.values()) for days in per_day.values()) == 11


def test_letters_by_constituency_most_first_with_name_and_reported_replies(stats):
    first, second = stats.constituencies
    assert (first.code, first.name, first.letters) == (SEAT, "Ynys Môn & <Anglesey>", 2)
    assert first.replies == {"supportive": 1, "form_letter": 1}
    assert (second.code, second.name, second.letters) == (OTHER_SEAT, "Glasgow North", 1)
    assert second.replies == {}


def test_only_the_top_twenty_constituencies_are_shown(storage):
    # The n-th of 25 seats gets n letters.
    storage.db["actions"].insert_all(
        action(ANA, "mp_letter_sent", "2026-11-26T10:00:00+00:00", f"E14{1000 + seat:06d}")
        for seat in range(1, 26)
        for _ in range(seat)
    )
    shown = gather_stats(storage, CAMPAIGN, NOW).constituencies
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


def test_solidarity_messages_by_status(stats):
    assert stats.solidarity == {"pending": 2, "approved": 1, "rejected": 1}


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        ("2026-11-20", "2026-11-05", "2026-11-20"),  # the run-up
        ("2026-12-01", "2026-11-16", "2026-12-01"),
        ("2027-01-15", "2026-11-25", "2026-12-10"),  # afterwards: the campaign itself
    ],
)
def test_days_shown_end_today_or_on_the_campaigns_last_day(today, first, last):
    assert stats_days(CAMPAIGN, day(today)) == (day(first), day(last))


# --- rendering --------------------------------------------------------------------------------


def test_report_shows_the_figures_and_escapes_stored_names(stats):
    report = render_stats("en", stats)
    for expected in (
        "<b>Supporters</b>: 6, of whom 3 get the daily prompt",
        "English 4 · Português 1 · Español 1",
        "25 November: 2",
        "Signed the petition: 3 (50%)",
        "Sent solidarity: 2 (33%)",
        "1. Ynys Môn &amp; &lt;Anglesey&gt;: <b>2</b> · supportive 1 · form letter 1",
        "2. Glasgow North: <b>1</b> · no replies reported yet",
        "3 joined through 2 supporters' referral links",
        "<code>AAAA</code> 2",
        "Opened from campaign links: mp 1",
        "#6 broadcast",
        "sent 2 · blocked 1 · unknown 1",
        "2 waiting for moderation, 1 approved",
    ):
        assert expected in report
    assert "<Anglesey>" not in report


@pytest.mark.parametrize("language", LANGUAGES)
def test_report_in_each_language_with_its_number_format(storage, language):
    storage.db["supporters"].insert_all(
        supporter(user_id, "pt", "2026-11-26T10:00:00+00:00") for user_id in range(1, 1235)
    )
    report = render_stats(language, gather_stats(storage, CAMPAIGN, NOW))
    assert {"en": "1,234", "pt": "1.234", "es": "1.234"}[language] in report
    assert {"en": "Supporters", "pt": "Apoiadoras", "es": "Simpatizantes"}[language] in report


def test_an_empty_database_reports_zeros_in_every_language(storage):
    stats = gather_stats(storage, CAMPAIGN, NOW)
    for language in LANGUAGES:
        assert render_stats(language, stats)
    report = render_stats("en", stats)
    assert "<b>Supporters</b>: 0" in report
    assert "No letters yet." in report
    assert "No broadcasts yet." in report
    assert "Nobody has joined through a link yet." in report


def test_a_long_report_is_split_between_sections_within_telegrams_limit(storage):
    long_name = "Very Long Constituency Name " * 6
    storage.db["supporters"].insert_all(
        supporter(number, "en", "2026-11-26T10:00:00+00:00", seat=f"E{number}")
        | {"constituency_name": long_name}
        for number in range(1, 21)
    )
    storage.db["actions"].insert_all(
        action(number, "mp_letter_sent", "2026-11-26T10:00:00+00:00", f"E{number}")
        for number in range(1, 21)
    )
    stats = gather_stats(storage, CAMPAIGN, NOW)
    messages = stats_messages("en", stats)
    assert len(messages) > 1
    assert all(len(message) <= MESSAGE_LIMIT for message in messages)
    # Nothing lost or repeated: only where the report breaks differs.
    assert " ".join(messages).split() == render_stats("en", stats).split()


def test_terminal_text_has_the_same_figures_without_html(stats):
    printed = format_stats_text(stats)
    assert "Supporters: 6, of whom 3 get the daily prompt" in printed
    assert "1. Ynys Môn & <Anglesey>: 2" in printed
    assert "<b>" not in printed


def test_chart_is_a_png_with_data_and_without(stats, storage):
    assert actions_chart("en", stats).startswith(PNG_SIGNATURE)
    empty = gather_stats(storage, CAMPAIGN, NOW)
    assert actions_chart("pt", empty).startswith(PNG_SIGNATURE)


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
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "stats.db"))
    assert cli.main(["stats"]) == 0
    printed = capsys.readouterr().out
    assert "Supporters: 6, of whom 3 get the daily prompt" in printed
    assert "Signed the petition: 3" in printed


def test_stats_command_without_a_database_says_which_setting(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "missing.db"))
    assert cli.main(["stats"]) == cli.EXIT_CONFIG
    assert "DATABASE_PATH" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()
