"""A small campaign counted by hand, for the organisers' figures (/stats, /export)."""

from __future__ import annotations

import datetime as dt

from bot.storage import Storage

# On day 3 of the campaign (25 November to 10 December 2026).
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
ORGANISER = 900_000_099
ANA, BEA, CARLA, DORA, EVA, FLOR = range(900_000_001, 900_000_007)
SEAT, OTHER_SEAT = "W07000081", "S14000021"


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


def small_campaign(storage: Storage) -> Storage:
    """Six supporters, their actions, letters, replies, broadcasts and solidarity messages,
    counted by hand in the tests of bot/stats.py and messages/stats.py."""
    db = storage.db
    db["supporters"].insert_all(
        [
            supporter(ANA, "en", "2026-11-25T09:00:00+00:00", opted_in=1, seat=SEAT),
            # Blocked the bot: still a supporter, no longer reachable.
            supporter(BEA, "pt", "2026-11-25T23:59:59+00:00", opted_in=1, blocked_at="2026-11-26"),
            supporter(CARLA, "es", "2026-11-26T00:00:00+00:00", source="ref-AAAA"),
            supporter(DORA, "en", "2026-11-26T10:00:00+00:00", opted_in=1, source="ref-AAAA"),
            # Joined before the campaign, whose days /stats shows.
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


def hashtag_counts(storage: Storage) -> None:
    """Hourly counts of two hashtags on 24 and 25 November 2026, from X and Bluesky."""
    storage.save_hashtag_counts(
        "x",
        "16Days",
        {
            "2026-11-24T10:00:00+00:00": 50,
            "2026-11-25T09:00:00+00:00": 60,
            "2026-11-25T10:00:00+00:00": 15,
        },
    )
    storage.save_hashtag_counts("bluesky", "16Days", {"2026-11-25T08:00:00+00:00": 5})
    storage.save_hashtag_counts("x", "StepUpMigrantWomen", {"2026-11-25T09:00:00+00:00": 3})
