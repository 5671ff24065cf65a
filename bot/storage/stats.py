"""Totals for /stats and /export."""

from __future__ import annotations

import json
from typing import Any

from bot.storage.base import Store, constituency_name_of


class StatsStore(Store):
    """Totals only, never a row about one person.

    Days are UTC days ('YYYY-MM-DD'), compared with stamp()'s ISO strings; every query here
    walks an index (0011_stats_indexes), so /stats stays fast at 100,000 supporters and
    1,000,000 actions (bench/bench_database.py).
    """

    # Each day from :first to :last inclusive, so days with nothing count as zero.
    _DAYS = (
        "WITH RECURSIVE days(day) AS (SELECT date(:first) UNION ALL"
        " SELECT date(day, '+1 day') FROM days WHERE day < date(:last))"
    )

    def supporters_by_language(self) -> dict[str, tuple[int, int]]:
        """Per language: (supporters, subscribed: opted in to the daily prompt and not blocked)."""
        rows = self.db.execute(
            "SELECT language, count(*), total(opted_in = 1 AND blocked_at IS NULL)"
            " FROM supporters GROUP BY language"
        ).fetchall()
        return {language: (count, int(subscribed)) for language, count, subscribed in rows}

    def first_supporter_day(self) -> str | None:
        row = self.db.execute("SELECT substr(min(created_at), 1, 10) FROM supporters").fetchone()
        return row[0]

    def new_supporters_per_day(self, first: str, last: str) -> dict[str, int]:
        """Supporters who joined on each day from `first` to `last`."""
        rows = self.db.execute(
            f"{self._DAYS} SELECT day, (SELECT count(*) FROM supporters"
            "  WHERE created_at >= day AND created_at < date(day, '+1 day')) FROM days",
            {"first": first, "last": last},
        ).fetchall()
        return dict(rows)

    def actions_per_day(self, kinds: tuple[str, ...], first: str, last: str) -> dict[str, dict]:
        """kind -> day -> how many actions of that kind on that day, from `first` to `last`.
        One index range count per kind and day: no sorting of a million rows."""
        rows = self.db.execute(
            f"{self._DAYS}, kinds(kind) AS (SELECT value FROM json_each(:kinds))"
            " SELECT kind, day, (SELECT count(*) FROM actions a WHERE a.kind = kinds.kind"
            "  AND a.at >= day AND a.at < date(day, '+1 day')) FROM kinds, days",
            {"first": first, "last": last, "kinds": json.dumps(kinds)},
        ).fetchall()
        per_kind: dict[str, dict[str, int]] = {kind: {} for kind in kinds}
        for kind, day, count in rows:
            per_kind[kind][day] = count
        return per_kind

    def people_who_did(self, kinds: tuple[str, ...]) -> int:
        """How many supporters did at least one action of these kinds."""
        each_kind = " UNION ".join(
            ["SELECT DISTINCT user_id FROM actions WHERE kind = ?"] * len(kinds)
        )
        return self.db.execute(f"SELECT count(*) FROM ({each_kind})", kinds).fetchone()[0]

    def actions_by_constituency(self, kind: str, limit: int | None = None) -> list[dict[str, Any]]:
        """(code, name, count) of each constituency's actions of `kind`, most first; the name is
        the one postcode lookups gave (`constituency_name_of`)."""
        name = constituency_name_of("counted.code")
        return list(
            self.rows(
                f"SELECT counted.code, counted.count, {name} AS name"
                " FROM (SELECT constituency_code AS code, count(*) AS count FROM actions"
                "  WHERE kind = ? AND constituency_code IS NOT NULL GROUP BY constituency_code"
                "  ORDER BY count DESC, code LIMIT ?) AS counted"
                " ORDER BY counted.count DESC, counted.code",
                [kind, -1 if limit is None else limit],
            )
        )

    def mp_replies_by_constituency(self) -> dict[str, dict[str, int]]:
        """constituency code -> reported outcome -> how many supporters reported it."""
        rows = self.db.execute(
            "SELECT constituency_code, outcome, count(*) FROM mp_followups"
            " WHERE outcome IS NOT NULL AND constituency_code IS NOT NULL"
            " GROUP BY constituency_code, outcome"
        ).fetchall()
        replies: dict[str, dict[str, int]] = {}
        for code, outcome, count in rows:
            replies.setdefault(code, {})[outcome] = count
        return replies

    def referral_sources(self) -> dict[str, int]:
        """How many supporters arrived through each deep-link source ('ref-<code>', 'mp', ...)."""
        rows = self.db.execute(
            "SELECT referral_source, count(*) FROM supporters"
            " WHERE referral_source IS NOT NULL GROUP BY referral_source"
        ).fetchall()
        return dict(rows)

    def broadcast_outcomes(
        self, limit: int | None = None, *, mp_followups: bool = True
    ) -> list[dict[str, Any]]:
        """The latest broadcasts first (id, kind, created_at, scheduled_for, status, total),
        each with its `deliveries` per status; without `mp_followups`, leaving out the batches
        of "Did your MP reply?" (one every half hour while letters come due,
        bot.mps.start_followups)."""
        batches = "" if mp_followups else "WHERE json_extract(audience, '$.mp_followups') IS NULL"
        rows = list(
            self.rows(
                "SELECT id, kind, created_at, scheduled_for, status, total"
                f" FROM broadcasts {batches}"
                " ORDER BY id DESC LIMIT ?",
                [-1 if limit is None else limit],
            )
        )
        return [{**row, "deliveries": self.broadcast_summary(row["id"])} for row in rows]

    def solidarity_message_counts(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT status, count(*) FROM solidarity_messages GROUP BY status"
        ).fetchall()
        return dict(rows)

    def lobby_days(self, limit: int) -> list[dict[str, Any]]:
        """The latest lobby days not cancelled, latest first: `title` ({language: text}),
        `starts_at`, how many are `going`, the `mps` they will meet (one per constituency),
        meeting `requests` sent, and `outcomes`: answers to "How did it go?" per outcome."""
        rows = self.rows(
            "SELECT e.id, e.title, e.starts_at,"
            " count(*) FILTER (WHERE r.status = 'yes') AS going,"
            " count(DISTINCT r.constituency_code) FILTER (WHERE r.status = 'yes') AS mps,"
            " count(r.request_sent_at) FILTER (WHERE r.status = 'yes') AS requests"
            " FROM lobby_events e LEFT JOIN lobby_rsvps r ON r.event_id = e.id"
            " WHERE e.status = 'open' GROUP BY e.id ORDER BY e.starts_at DESC, e.id DESC"
            " LIMIT ?",
            [limit],
        )
        for row in rows:
            row["title"] = json.loads(row["title"])
            row["outcomes"] = dict(
                self.db.execute(
                    "SELECT outcome, count(*) FROM lobby_rsvps WHERE event_id = ?"
                    " AND outcome IS NOT NULL GROUP BY outcome",
                    [row["id"]],
                ).fetchall()
            )
        return rows
