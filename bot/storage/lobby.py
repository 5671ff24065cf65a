"""Lobby days: events, RSVPs (by constituency, with the MP met), the broadcast each of an
event's moments became, "How did it go?" answers and the stories for the organisers' live blog.

An RSVP keeps the constituency and the MP, never the postcode. Each moment (the reminders, the
message on the day to everyone else, the question afterwards) is recorded in `lobby_moments` in
the same transaction that creates its broadcast, so it is created at most once and, once
created, delivered by the resumable engine (bot.delivery) whatever happens to the process.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.storage.base import Store, not_stopped_since, stamp

TEXT_COLUMNS = ("title", "place", "bring")
GOING = "yes"
# Deliveries that mean the question reached (or may have reached) the supporter.
ASKED = "('sent', 'unknown')"


def going_clause(alias: str = "s") -> str:
    """SQL: the supporter `alias` said yes to the event given as the parameter."""
    return (
        "EXISTS (SELECT 1 FROM lobby_rsvps r WHERE r.event_id = ? AND r.status = 'yes'"
        f" AND r.user_id = {alias}.user_id)"
    )


def still_going_clause(alias: str = "s") -> str:
    """SQL: the supporter `alias` said yes to the event given as the parameter and has not sent
    /stop since (saying no to one kind of message is not /stop: bot.consent)."""
    return (
        "EXISTS (SELECT 1 FROM lobby_rsvps r WHERE r.event_id = ? AND r.status = 'yes'"
        f" AND r.user_id = {alias}.user_id AND {not_stopped_since('r.updated_at', alias)})"
    )


def uncovered_clause(alias: str = "s") -> str:
    """SQL: the supporter `alias` lives in a known constituency from which nobody said yes to
    the event given as the parameter."""
    # NOT IN reads the seats covered once; a correlated NOT EXISTS looked them up again for
    # every supporter (150 ms instead of 25 at 100,000 supporters: bench/bench_database.py).
    return (
        f"{alias}.constituency_code IS NOT NULL AND {alias}.constituency_code NOT IN"
        " (SELECT r.constituency_code FROM lobby_rsvps r WHERE r.event_id = ?"
        " AND r.status = 'yes' AND r.constituency_code IS NOT NULL)"
    )


# SQL over `supporters s` for each bot.lobby audience around the event given as the parameter.
LOBBY_REACHES = {
    "going": going_clause(),
    "uncovered": uncovered_clause(),
    "not_going": f"NOT {going_clause()}",
    "still_going": still_going_clause(),
}


# Why someone chosen for a message about the event was no longer in its audience at their turn:
# those going had cancelled their yes (or sent /stop since it, for news of their own yes); those
# not going, or living where nobody was going, now had a yes from themselves or their seat.
NOT_GOING, STOPPED, NOW_GOING, COVERED = "not_going", "stopped", "now_going", "covered"
LEFT_REACH = {"going": NOT_GOING, "not_going": NOW_GOING, "uncovered": COVERED}


def left_reach(reach: str, *, going: bool) -> str:
    """Why someone left the audience `reach` (one of LOBBY_REACHES), given whether they still
    have a yes to the event: for 'still_going', a cancelled yes or a /stop since."""
    if reach == "still_going":
        return STOPPED if going else NOT_GOING
    return LEFT_REACH[reach]


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for column in TEXT_COLUMNS:
        row[column] = json.loads(row[column]) if row[column] else {}
    return row


class LobbyStore(Store):
    """Lobby events, RSVPs, outcomes and stories."""

    # --- events -----------------------------------------------------------------------------

    def create_lobby_event(
        self,
        *,
        texts: dict[str, dict[str, str]],
        starts_at: dt.datetime,
        rsvp_deadline: dt.datetime,
        hashtag: str,
        created_by: int,
    ) -> int:
        """Store a new open event; `texts` holds title, place and bring as {language: text}."""
        now = stamp()
        row = {
            **{column: json.dumps(texts.get(column) or {}) for column in TEXT_COLUMNS},
            "starts_at": stamp(starts_at),
            "rsvp_deadline": stamp(rsvp_deadline),
            "hashtag": hashtag,
            "status": "open",
            "created_by": created_by,
            "created_at": now,
            "updated_at": now,
        }
        return self.insert("lobby_events", row)

    def update_lobby_event(
        self,
        event_id: int,
        *,
        texts: dict[str, dict[str, str]],
        starts_at: dt.datetime,
        rsvp_deadline: dt.datetime,
        hashtag: str,
    ) -> bool:
        """Change an open event's texts and times; False if it is cancelled or gone. A new
        start or place is a new revision: buttons under messages about the old one are stale."""
        place = json.dumps(texts.get("place") or {})
        return bool(
            self.db.execute(
                "UPDATE lobby_events SET revision = revision + (starts_at != ? OR place != ?),"
                " title = ?, place = ?, bring = ?, starts_at = ?,"
                " rsvp_deadline = ?, hashtag = ?, updated_at = ? WHERE id = ? AND status = 'open'",
                [
                    stamp(starts_at),
                    place,
                    *(json.dumps(texts.get(column) or {}) for column in TEXT_COLUMNS),
                    stamp(starts_at),
                    stamp(rsvp_deadline),
                    hashtag,
                    stamp(),
                    event_id,
                ],
            ).rowcount
        )

    def get_lobby_event(self, event_id: int) -> dict[str, Any] | None:
        """The event row with its texts decoded, or None."""
        rows = self.rows("SELECT * FROM lobby_events WHERE id = ?", [event_id])
        return _decoded(rows[0]) if rows else None

    def lobby_events(self, *, open_after: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Events newest first; with `open_after`, only open ones starting after it (soonest
        first), as supporters see them."""
        if open_after is None:
            rows = self.rows("SELECT * FROM lobby_events ORDER BY starts_at DESC, id DESC")
        else:
            rows = self.rows(
                "SELECT * FROM lobby_events WHERE status = 'open' AND starts_at > ?"
                " ORDER BY starts_at, id",
                [stamp(open_after)],
            )
        return [_decoded(row) for row in rows]

    def cancel_lobby_event(self, event_id: int) -> bool:
        """Cancel an open event; False if it already was (or is gone)."""
        return bool(
            self.db.execute(
                "UPDATE lobby_events SET status = 'cancelled', updated_at = ?"
                " WHERE id = ? AND status = 'open'",
                [stamp(), event_id],
            ).rowcount
        )

    def lobby_moment_done(self, event_id: int, moment: str) -> bool:
        """Whether the event's `moment` (a bot.lobby moment) already has its broadcast."""
        return bool(
            self.db.execute(
                "SELECT 1 FROM lobby_moments WHERE event_id = ? AND moment = ?",
                [event_id, moment],
            ).fetchone()
        )

    def record_lobby_moment(self, event_id: int, moment: str, broadcast_id: int) -> None:
        """The broadcast `moment` became; call in the transaction that creates it."""
        self.insert(
            "lobby_moments",
            {
                "event_id": event_id,
                "moment": moment,
                "broadcast_id": broadcast_id,
                "created_at": stamp(),
            },
        )

    def rearm_lobby_moments(self, event_id: int, moments: list[str]) -> None:
        """Forget that `moments` were done, so they happen again at the event's new times."""
        self.db.execute(
            f"DELETE FROM lobby_moments WHERE event_id = ? AND moment IN"
            f" ({', '.join('?' * len(moments))})",
            [event_id, *moments],
        )

    # --- RSVPs ------------------------------------------------------------------------------

    def save_rsvp(
        self, event_id: int, user_id: int, *, constituency: tuple[str, str], mp: dict[str, Any]
    ) -> None:
        """Say yes (again): the constituency as (code, name) and the MP's member_id, name and
        party. A yes after a cancellation keeps what was already sent for that event, except a
        meeting request to another MP: from a new constituency, their MP has not been asked."""
        code, name = constituency
        now = stamp()
        self.db.execute(
            "INSERT INTO lobby_rsvps (event_id, user_id, status, constituency_code,"
            " constituency_name, mp_member_id, mp_name, mp_party, created_at, updated_at)"
            " VALUES (?, ?, 'yes', ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (event_id, user_id) DO UPDATE SET status = 'yes',"
            " constituency_code = excluded.constituency_code,"
            " constituency_name = excluded.constituency_name,"
            " mp_member_id = excluded.mp_member_id, mp_name = excluded.mp_name,"
            " mp_party = excluded.mp_party, updated_at = excluded.updated_at,"
            " request_sent_at = CASE WHEN lobby_rsvps.constituency_code"
            " = excluded.constituency_code AND lobby_rsvps.mp_member_id IS excluded.mp_member_id"
            " THEN lobby_rsvps.request_sent_at END",
            [event_id, user_id, code, name, mp["member_id"], mp["name"], mp["party"], now, now],
        )

    def cancel_rsvp(self, event_id: int, user_id: int) -> bool:
        """Withdraw a yes; False if there was none."""
        return bool(
            self.db.execute(
                "UPDATE lobby_rsvps SET status = 'cancelled', updated_at = ?"
                " WHERE event_id = ? AND user_id = ? AND status = 'yes'",
                [stamp(), event_id, user_id],
            ).rowcount
        )

    def get_rsvp(self, event_id: int, user_id: int) -> dict[str, Any] | None:
        """The supporter's RSVP row for the event (any status), or None."""
        rows = self.rows(
            "SELECT * FROM lobby_rsvps WHERE event_id = ? AND user_id = ?", [event_id, user_id]
        )
        return rows[0] if rows else None

    def going_count(self, event_id: int, constituency_code: str | None = None) -> int:
        """Supporters with a yes to the event (from one constituency, if given)."""
        sql = "SELECT count(*) FROM lobby_rsvps WHERE event_id = ? AND status = 'yes'"
        params: list[Any] = [event_id]
        if constituency_code:
            sql += " AND constituency_code = ?"
            params.append(constituency_code)
        return self.db.execute(sql, params).fetchone()[0]

    def record_lobby_outcome(self, event_id: int, user_id: int, outcome: str) -> bool:
        """The answer to "How did it go?", once, from someone it was sent to, about an event
        not cancelled; False otherwise (a stale or crafted button)."""
        return bool(
            self.db.execute(
                "UPDATE lobby_rsvps SET outcome = ?, outcome_at = ? WHERE event_id = ?"
                " AND user_id = ? AND outcome IS NULL AND EXISTS (SELECT 1 FROM lobby_moments m"
                " JOIN lobby_events e ON e.id = m.event_id AND e.status = 'open'"
                " JOIN deliveries d ON d.broadcast_id = m.broadcast_id AND d.user_id = ?"
                f" WHERE m.event_id = ? AND m.moment = 'outcome' AND d.status IN {ASKED})",
                [outcome, stamp(), event_id, user_id, user_id, event_id],
            ).rowcount
        )

    # --- stories ----------------------------------------------------------------------------

    def add_lobby_story(
        self, event_id: int, user_id: int, body: str, signature: str | None, language: str
    ) -> int:
        """A story the author agreed to have published, waiting for moderation."""
        row = {
            "event_id": event_id,
            "user_id": user_id,
            "body": body,
            "signature": signature,
            "language": language,
            "status": "pending",
            "created_at": stamp(),
        }
        return self.insert("lobby_stories", row)

    def next_pending_story(self, event_id: int) -> dict[str, Any] | None:
        """The oldest story waiting for an event, with the MP it was about (not its author)."""
        rows = self.rows(
            "SELECT t.id, t.body, t.signature, t.language, r.mp_name FROM lobby_stories t"
            " LEFT JOIN lobby_rsvps r ON r.event_id = t.event_id AND r.user_id = t.user_id"
            " WHERE t.event_id = ? AND t.status = 'pending' ORDER BY t.id LIMIT 1",
            [event_id],
        )
        return rows[0] if rows else None

    def story_event(self, story_id: int) -> int | None:
        """The event a story is about, or None if the story is gone."""
        row = self.db.execute(
            "SELECT event_id FROM lobby_stories WHERE id = ?", [story_id]
        ).fetchone()
        return row[0] if row else None

    def moderate_story(self, story_id: int, status: str, organiser_id: int) -> bool:
        """Approve or reject a pending story; False if it is no longer pending (or gone)."""
        return bool(
            self.db.execute(
                "UPDATE lobby_stories SET status = ?, moderated_by = ?, moderated_at = ?"
                " WHERE id = ? AND status = 'pending'",
                [status, organiser_id, stamp(), story_id],
            ).rowcount
        )

    def approved_stories(self, event_id: int) -> list[dict[str, Any]]:
        """Approved stories, oldest first, with only what is published and the MP."""
        return self.rows(
            "SELECT t.body, t.signature, r.mp_name FROM lobby_stories t"
            " LEFT JOIN lobby_rsvps r ON r.event_id = t.event_id AND r.user_id = t.user_id"
            " WHERE t.event_id = ? AND t.status = 'approved' ORDER BY t.id",
            [event_id],
        )

    # --- organisers' figures ----------------------------------------------------------------

    def rsvp_counts(self, event_id: int) -> dict[str, int]:
        """Supporters per RSVP status ('yes', 'cancelled')."""
        return dict(
            self.db.execute(
                "SELECT status, count(*) FROM lobby_rsvps WHERE event_id = ? GROUP BY status",
                [event_id],
            ).fetchall()
        )

    def lobby_constituencies(self, event_id: int) -> list[dict[str, Any]]:
        """Per constituency with a yes: code, name, the MP's party, how many are going, how
        many asked their MP for a meeting and how many were asked how it went. No one's id."""
        return self.rows(
            "SELECT r.constituency_code AS code, max(r.constituency_name) AS name,"
            " max(r.mp_party) AS party, count(*) AS going, count(r.request_sent_at) AS requests,"
            " count(d.user_id) AS asked FROM lobby_rsvps r"
            " LEFT JOIN lobby_moments m ON m.event_id = r.event_id AND m.moment = 'outcome'"
            " LEFT JOIN deliveries d ON d.broadcast_id = m.broadcast_id"
            f" AND d.user_id = r.user_id AND d.status IN {ASKED}"
            " WHERE r.event_id = ? AND r.status = 'yes'"
            " GROUP BY r.constituency_code ORDER BY going DESC, name",
            [event_id],
        )

    def lobby_outcomes(self, event_id: int) -> dict[str, dict[str, int]]:
        """Constituency code -> {outcome: supporters who answered it}."""
        found: dict[str, dict[str, int]] = {}
        for code, outcome, count in self.db.execute(
            "SELECT constituency_code, outcome, count(*) FROM lobby_rsvps"
            " WHERE event_id = ? AND outcome IS NOT NULL GROUP BY constituency_code, outcome",
            [event_id],
        ).fetchall():
            found.setdefault(code, {})[outcome] = count
        return found

    def record_meeting_request(self, event_id: int, user_id: int) -> bool:
        """The supporter sent their request to meet; False without a yes (or if already)."""
        return bool(
            self.db.execute(
                "UPDATE lobby_rsvps SET request_sent_at = ? WHERE event_id = ? AND user_id = ?"
                " AND status = 'yes' AND request_sent_at IS NULL",
                [stamp(), event_id, user_id],
            ).rowcount
        )

    def uncovered_constituencies(self, event_id: int) -> list[tuple[str, str, int]]:
        """(code, name, supporters there) where supporters live and nobody is going yet, the
        most supporters first: where to recruit."""
        return self.db.execute(
            "SELECT s.constituency_code, max(s.constituency_name), count(*) FROM supporters s"
            f" WHERE s.blocked_at IS NULL AND {uncovered_clause()}"
            " GROUP BY s.constituency_code ORDER BY count(*) DESC, max(s.constituency_name)",
            [event_id],
        ).fetchall()

    def story_counts(self, event_id: int) -> dict[str, int]:
        """Stories per moderation status ('pending', 'approved', 'rejected')."""
        return dict(
            self.db.execute(
                "SELECT status, count(*) FROM lobby_stories WHERE event_id = ? GROUP BY status",
                [event_id],
            ).fetchall()
        )
