"""Broadcasts and their per-recipient deliveries, and the composer's audience counts."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from bot.storage.base import FOLLOWUP_OWED, Store, followup_clause, stamp
from bot.storage.lobby import LOBBY_REACHES
from bot.storage.supporters import UNSUBSCRIBED, agreed

# Deliveries that count against a person's daily cap: sent, being sent, or perhaps sent.
COUNTED_AGAINST_CAP = ("sending", "sent", "unknown")
DAILY_CAP = "daily cap"  # the error of a delivery skipped because the person had had enough


@dataclass(frozen=True)
class Selection:
    """Who a broadcast's recipients are, as the queries choose them: said yes to the `consent`
    subject (None: a message that needs no choice) and not blocked (P2, P7), narrowed by each
    filter given: done any of `done_actions`, none of `missing_actions`, living in
    `constituency_code`, `lobby` as (event id, 'going' | 'uncovered' | 'not_going' |
    'still_going'), and `followups_of`, the broadcast asking their "Did your MP reply?" (still
    owed). Counting and sending share it."""

    consent: str | None
    languages: tuple[str, ...] = ()
    done_actions: tuple[str, ...] = ()
    missing_actions: tuple[str, ...] = ()
    constituency_code: str | None = None
    lobby: tuple[int, str] | None = None
    followups_of: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The WHERE clause over `supporters s`, and its parameters."""
        where = [agreed(self.consent), "s.blocked_at IS NULL"]
        params: list[Any] = []
        if self.languages:
            where.append(f"s.language IN ({', '.join('?' * len(self.languages))})")
            params.extend(self.languages)
        for kinds, test in ((self.done_actions, "EXISTS"), (self.missing_actions, "NOT EXISTS")):
            if kinds:
                marks = ", ".join("?" * len(kinds))
                did = f"SELECT 1 FROM actions a WHERE a.user_id = s.user_id AND a.kind IN ({marks})"
                where.append(f"{test} ({did})")
                params.extend(kinds)
        if self.constituency_code:
            where.append("s.constituency_code = ?")
            params.append(self.constituency_code)
        if self.lobby:
            event_id, reach = self.lobby
            where.append(LOBBY_REACHES[reach])
            params.append(event_id)
        if self.followups_of:
            where.append(followup_clause(FOLLOWUP_OWED))
            params.append(self.followups_of)
        return " AND ".join(where), params


class BroadcastStore(Store):
    """Broadcasts, their recipients' deliveries, and audience counts."""

    # --- delivery ---------------------------------------------------------------------------

    def create_broadcast(
        self,
        *,
        kind: str,
        texts: dict[str, str],
        audience: dict[str, Any],
        buttons: dict[str, dict[str, str]] | None = None,
        photo_file_id: str | None = None,
        created_by: int | None = None,
        scheduled_for: dt.datetime | None = None,
        campaign_day: int | None = None,
    ) -> int:
        """Store a broadcast: 'scheduled' when it has a time, otherwise a 'draft'."""
        row = {
            "kind": kind,
            "created_by": created_by,
            "created_at": stamp(),
            "audience": json.dumps(audience),
            "texts": json.dumps(texts),
            "buttons": json.dumps(buttons) if buttons else None,
            "photo_file_id": photo_file_id,
            "status": "scheduled" if scheduled_for else "draft",
            "scheduled_for": stamp(scheduled_for) if scheduled_for else None,
            "campaign_day": campaign_day,
        }
        return self.insert("broadcasts", row)

    def set_broadcast_buttons(self, broadcast_id: int, buttons: dict[str, Any]) -> None:
        """Replace the buttons of a broadcast not yet started (draft or scheduled)."""
        self.db.execute(
            "UPDATE broadcasts SET buttons = ? WHERE id = ? AND status IN ('draft', 'scheduled')",
            [json.dumps(buttons), broadcast_id],
        )

    def get_broadcast(self, broadcast_id: int) -> dict[str, Any] | None:
        """The broadcast row with its JSON columns (audience, texts, buttons) decoded."""
        rows = self.rows("SELECT * FROM broadcasts WHERE id = ?", [broadcast_id])
        if not rows:
            return None
        row = rows[0]
        for column in ("audience", "texts", "buttons"):
            row[column] = json.loads(row[column]) if row[column] else {}
        return row

    def broadcast_status(self, broadcast_id: int) -> str | None:
        row = self.db.execute(
            "SELECT status FROM broadcasts WHERE id = ?", [broadcast_id]
        ).fetchone()
        return row[0] if row else None

    def begin_deliveries(self, broadcast_id: int) -> bool:
        """Mark a draft or scheduled broadcast 'preparing': its recipients are about to be
        written (`prepare_deliveries`). False if it had already started or ended."""
        return bool(
            self.db.execute(
                "UPDATE broadcasts SET status = 'preparing', started_at = ?, total = 0,"
                " prepared_through = NULL WHERE id = ? AND status IN ('draft', 'scheduled')",
                [stamp(), broadcast_id],
            ).rowcount
        )

    def prepare_deliveries(self, broadcast_id: int, selection: Selection, slice_size: int) -> bool:
        """Write one pending delivery for each recipient among the next `slice_size` supporters
        (by user id) of a 'preparing' broadcast, in one short transaction, inside SQLite; after
        the last slice the broadcast is 'running' and its `total` is its recipients. Never a
        second delivery for anyone, so a slice written again after a crash changes nothing.
        Returns whether slices are left: False once it is running, or if it is not preparing
        (cancelled meanwhile, or another run of it finished the preparation)."""
        where, params = selection.where()
        with self.immediate():
            row = self.db.execute(
                "SELECT prepared_through FROM broadcasts WHERE id = ? AND status = 'preparing'",
                [broadcast_id],
            ).fetchone()
            if row is None:
                return False
            after = -(2**63) if row[0] is None else row[0]
            bound = self.db.execute(
                "SELECT user_id FROM supporters WHERE user_id > ? ORDER BY user_id"
                " LIMIT 1 OFFSET ?",
                [after, slice_size - 1],
            ).fetchone()
            upto = 2**63 - 1 if bound is None else bound[0]
            # NOT INDEXED: through the slice's user id range, where SQLite would otherwise walk
            # a consent index over every supporter for each slice (130 ms each at 100,000).
            added = self.db.execute(
                "INSERT OR IGNORE INTO deliveries (broadcast_id, user_id, status, updated_at) "
                f"SELECT ?, s.user_id, 'pending', ? FROM supporters s NOT INDEXED WHERE {where}"
                " AND s.user_id > ? AND s.user_id <= ?",
                [broadcast_id, stamp(), *params, after, upto],
            ).rowcount
            self.db.execute(
                "UPDATE broadcasts SET total = total + ?, prepared_through = ?,"
                " status = CASE WHEN ? THEN 'running' ELSE status END WHERE id = ?",
                [added, upto, bound is None, broadcast_id],
            )
        return bound is not None

    def late_recipients(self, broadcast_id: int, *, consent: str | None) -> int:
        """How many who said yes to `consent` have no delivery of this broadcast yet: they
        agreed after it started. 0 until its recipients are all written (while it is
        preparing, those not written yet are still to come, not late)."""
        where, params = Selection(consent).where()
        return self.db.execute(
            f"SELECT count(*) FROM supporters s WHERE {where} AND NOT EXISTS "
            "(SELECT 1 FROM deliveries d WHERE d.broadcast_id = ? AND d.user_id = s.user_id)"
            " AND EXISTS (SELECT 1 FROM broadcasts WHERE id = ? AND status IN ('running', 'done'))",
            [*params, broadcast_id, broadcast_id],
        ).fetchone()[0]

    def add_late_recipients(self, broadcast_id: int, *, consent: str | None) -> int:
        """Give a broadcast already running or done one pending delivery for each person who
        said yes to `consent` since it started (never a second one for anyone); a done one runs
        again for them. Returns how many were added (0 for a draft, scheduled or cancelled one:
        `prepare_deliveries` chooses those recipients)."""
        where, params = Selection(consent).where()
        now = stamp()
        with self.immediate():
            under_way = self.db.execute(
                "SELECT 1 FROM broadcasts WHERE id = ? AND status IN ('running', 'done')",
                [broadcast_id],
            ).fetchone()
            if not under_way:
                return 0
            added = self.db.execute(
                "INSERT OR IGNORE INTO deliveries (broadcast_id, user_id, status, updated_at) "
                f"SELECT ?, s.user_id, 'pending', ? FROM supporters s WHERE {where}",
                [broadcast_id, now, *params],
            ).rowcount
            if added:
                self.db.execute(
                    "UPDATE broadcasts SET status = 'running', total = "
                    "(SELECT count(*) FROM deliveries WHERE broadcast_id = ?) WHERE id = ?",
                    [broadcast_id, broadcast_id],
                )
        return added

    def claim_deliveries(
        self, broadcast_id: int, limit: int, cap: tuple[int, dt.datetime] | None = None
    ) -> list[tuple[int, str]]:
        """Up to `limit` pending recipients as (user id, language), now marked 'sending': from
        here until their outcome is written they count as in flight.

        With a `cap` of (n, day start), a recipient who already has n messages of this kind
        since the day start (sent, in flight, or perhaps sent, from other broadcasts) is
        marked 'skipped' instead and left out. Claims take the write lock, so two broadcasts
        sending at once cannot both slip under one person's cap."""
        with self.immediate():
            rows = self.db.execute(
                "SELECT d.user_id, coalesce(s.language, 'en') FROM deliveries d "
                "LEFT JOIN supporters s ON s.user_id = d.user_id "
                "WHERE d.broadcast_id = ? AND d.status = 'pending' ORDER BY d.rowid LIMIT ?",
                [broadcast_id, limit],
            ).fetchall()
            capped = {
                user_id
                for user_id, _ in rows
                if cap and self._over_cap(broadcast_id, user_id, *cap)
            }
            now = stamp()
            self.db.conn.executemany(
                "UPDATE deliveries SET status = ?, error = ?, updated_at = ? "
                "WHERE broadcast_id = ? AND user_id = ?",
                [
                    ("skipped", DAILY_CAP, now, broadcast_id, user_id)
                    if user_id in capped
                    else ("sending", None, now, broadcast_id, user_id)
                    for user_id, _ in rows
                ],
            )
        return [row for row in rows if row[0] not in capped]

    def _over_cap(self, broadcast_id: int, user_id: int, cap: int, since: dt.datetime) -> bool:
        """Whether `user_id` has had `cap` messages since `since` from other broadcasts of this
        one's kind. Reaches deliveries through their primary key, a broadcast at a time (there
        is no user_id index; see migration 0012)."""
        counted = ", ".join("?" * len(COUNTED_AGAINST_CAP))
        (count,) = self.db.execute(
            "SELECT count(*) FROM deliveries d WHERE d.broadcast_id IN ("
            "  SELECT o.id FROM broadcasts o, broadcasts b WHERE b.id = ? AND o.kind = b.kind"
            "  AND o.id != b.id AND o.started_at IS NOT NULL"
            "  AND coalesce(o.finished_at, ?) >= ?)"
            f" AND d.user_id = ? AND d.status IN ({counted}) AND d.updated_at >= ?",
            [broadcast_id, stamp(), stamp(since), user_id, *COUNTED_AGAINST_CAP, stamp(since)],
        ).fetchone()
        return count >= cap

    def record_deliveries(
        self, broadcast_id: int, outcomes: list[tuple[int, str, int | None, str | None]]
    ) -> None:
        """Write a batch's outcomes (user id, status, message id, error) in one transaction; a
        'blocked' outcome also marks the supporter blocked."""
        now = stamp()
        with self.immediate():
            self.db.conn.executemany(
                "UPDATE deliveries SET status = ?, message_id = ?, error = ?, updated_at = ? "
                "WHERE broadcast_id = ? AND user_id = ?",
                [
                    (status, message_id, error, now, broadcast_id, user_id)
                    for user_id, status, message_id, error in outcomes
                ],
            )
            for user_id, status, _, _ in outcomes:
                if status == "blocked":
                    self.mark_blocked(user_id)

    def requeue_in_flight(self, broadcast_id: int) -> int:
        """Put rows a dead process left 'sending' back to pending; returns how many (each may or
        may not have reached Telegram before the process died)."""
        return self.db.execute(
            "UPDATE deliveries SET status = 'pending', updated_at = ? "
            "WHERE broadcast_id = ? AND status = 'sending'",
            [stamp(), broadcast_id],
        ).rowcount

    def finish_broadcast(self, broadcast_id: int) -> bool:
        """Mark a running broadcast done, only once no recipient is pending or in flight."""
        return bool(
            self.db.execute(
                "UPDATE broadcasts SET status = 'done', finished_at = ? "
                "WHERE id = ? AND status = 'running' AND NOT EXISTS (SELECT 1 FROM deliveries "
                "  WHERE broadcast_id = ? AND status IN ('pending', 'sending'))",
                [stamp(), broadcast_id, broadcast_id],
            ).rowcount
        )

    def cancel_broadcast(self, broadcast_id: int) -> bool:
        """Stop a broadcast not yet ended: one preparing stops before its next slice (its
        `total`, the recipients written so far, becomes NULL: they were never all known), a
        running one after its batch."""
        return bool(
            self.db.execute(
                "UPDATE broadcasts SET status = 'cancelled', finished_at = ?,"
                " total = CASE WHEN status = 'preparing' THEN NULL ELSE total END"
                " WHERE id = ? AND status IN ('draft', 'scheduled', 'preparing', 'running')",
                [stamp(), broadcast_id],
            ).rowcount
        )

    def running_broadcasts(self) -> list[int]:
        """Broadcasts started and not ended: being prepared or sent."""
        rows = self.db.execute(
            "SELECT id FROM broadcasts WHERE status IN ('preparing', 'running') ORDER BY id"
        )
        return [broadcast_id for (broadcast_id,) in rows.fetchall()]

    def scheduled_broadcasts(self) -> list[tuple[int, str]]:
        """(id, scheduled_for) of every broadcast waiting for its time, earliest first."""
        return self.db.execute(
            "SELECT id, scheduled_for FROM broadcasts WHERE status = 'scheduled' "
            "ORDER BY scheduled_for, id"
        ).fetchall()

    def broadcast_summary(self, broadcast_id: int) -> dict[str, int]:
        """How many deliveries of a broadcast are in each status (pending, sending, sent, ...)."""
        rows = self.db.execute(
            "SELECT status, count(*) FROM deliveries WHERE broadcast_id = ? GROUP BY status",
            [broadcast_id],
        ).fetchall()
        return dict(rows)

    def skip_reasons(self, broadcast_id: int) -> dict[str, int]:
        """Why a broadcast's skipped recipients were skipped (DAILY_CAP or a
        SupporterStore.refusal) -> how many. A skip recorded before reasons were has none: it
        was someone no longer agreed, UNSUBSCRIBED."""
        rows = self.db.execute(
            "SELECT coalesce(error, ?), count(*) FROM deliveries WHERE broadcast_id = ?"
            " AND status = 'skipped' GROUP BY 1",
            [UNSUBSCRIBED, broadcast_id],
        ).fetchall()
        return dict(rows)

    # --- broadcast composer -----------------------------------------------------------------

    def count_audience(self, selection: Selection) -> int:
        """How many supporters a broadcast to `selection` would reach if it started now."""
        where, params = selection.where()
        query = f"SELECT count(*) FROM supporters s WHERE {where}"
        return self.db.execute(query, params).fetchone()[0]

    def count_capped(self, kind: str, cap: int, since: dt.datetime, selection: Selection) -> int:
        """How many of those `count_audience` counts already have `cap` messages from
        broadcasts of `kind` since `since` (sent, in flight, or perhaps sent): those the daily
        cap would hold back from one more starting now. Reaches deliveries through the
        broadcasts of the day (there is no user_id index; see migration 0012)."""
        where, params = selection.where()
        counted = ", ".join("?" * len(COUNTED_AGAINST_CAP))
        query = (
            f"SELECT count(*) FROM supporters s WHERE {where} AND s.user_id IN ("
            " SELECT d.user_id FROM deliveries d WHERE d.broadcast_id IN ("
            "  SELECT o.id FROM broadcasts o WHERE o.kind = ? AND o.started_at IS NOT NULL"
            "  AND coalesce(o.finished_at, ?) >= ?)"
            f" AND d.status IN ({counted}) AND d.updated_at >= ?"
            " GROUP BY d.user_id HAVING count(*) >= ?)"
        )
        day = [kind, stamp(), stamp(since), *COUNTED_AGAINST_CAP, stamp(since), cap]
        return self.db.execute(query, [*params, *day]).fetchone()[0]

    def supporter_constituencies(self) -> dict[str, str]:
        """GSS code -> name of every constituency a supporter's postcode lookup gave (a few
        hundred at most: read through the constituency index)."""
        rows = self.db.execute(
            "SELECT constituency_code, max(constituency_name) FROM supporters"
            " WHERE constituency_code IS NOT NULL GROUP BY constituency_code"
        ).fetchall()
        return {code: name or code for code, name in rows}

    def open_broadcasts(self, kind: str) -> list[int]:
        """Ids of broadcasts of `kind` being sent, then those waiting for their time (soonest
        first)."""
        rows = self.db.execute(
            "SELECT id FROM broadcasts WHERE kind = ?"
            " AND status IN ('preparing', 'running', 'scheduled')"
            " ORDER BY status = 'scheduled', scheduled_for, id",
            [kind],
        ).fetchall()
        return [broadcast_id for (broadcast_id,) in rows]
