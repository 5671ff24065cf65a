"""Hashtag tracking: counts per source, hashtag and hour, posts, checkpoints, budget and alerts."""

from __future__ import annotations

from typing import Any

from bot.storage.base import Store, stamp


class TrackingStore(Store):
    """Hashtag counts, posts, checkpoints, the X request budget and alerts."""

    def save_hashtag_counts(self, source: str, hashtag: str, counts: dict[str, int]) -> None:
        """Store counts per hour; an hour counted again replaces its earlier, partial value."""
        rows = [
            {"source": source, "hashtag": hashtag, "hour": hour, "count": count}
            for hour, count in counts.items()
        ]
        self.db["hashtag_counts"].upsert_all(rows, pk=("source", "hashtag", "hour"))

    def last_counted_hour(self, source: str, hashtag: str) -> str | None:
        return self.db.execute(
            "SELECT max(hour) FROM hashtag_counts WHERE source = ? AND hashtag = ?",
            [source, hashtag],
        ).fetchone()[0]

    def save_hashtag_posts(self, source: str, hashtag: str, posts: list[dict[str, Any]]) -> int:
        """Store posts found under `hashtag`: one row per post, with its latest engagement.
        Returns how many posts were new."""
        new = 0
        with self.db.atomic():
            for post in posts:
                row = {**post, "source": source, "hashtag": hashtag}
                inserted = self.db.execute(
                    "INSERT OR IGNORE INTO hashtag_posts (source, post_id, hashtag, author, text,"
                    " url, created_at, likes, reposts, replies, quotes) VALUES (:source, :post_id,"
                    " :hashtag, :author, :text, :url, :created_at, :likes, :reposts, :replies,"
                    " :quotes)",
                    row,
                ).rowcount
                if not inserted:
                    self.db.execute(
                        "UPDATE hashtag_posts SET likes = :likes, reposts = :reposts,"
                        " replies = :replies, quotes = :quotes"
                        " WHERE source = :source AND post_id = :post_id",
                        row,
                    )
                self.db.execute(
                    "INSERT OR IGNORE INTO hashtag_post_tags (source, post_id, hashtag)"
                    " VALUES (:source, :post_id, :hashtag)",
                    row,
                )
                new += inserted
        return new

    def recount_hashtag_hours(self, source: str, hashtag: str, since_hour: str) -> int:
        """Hourly counts computed from stored posts, for a source with no counts endpoint, from
        `since_hour` on. Hours use stamp()'s format, so an hour is its first 13 characters.
        Returns how many hours were written."""
        return self.db.execute(
            """
            INSERT INTO hashtag_counts (source, hashtag, hour, count)
            SELECT tags.source, tags.hashtag,
                   substr(posts.created_at, 1, 13) || ':00:00+00:00' AS hour, count(*)
            FROM hashtag_post_tags AS tags JOIN hashtag_posts AS posts USING (source, post_id)
            WHERE tags.source = ? AND tags.hashtag = ? AND posts.created_at >= ?
            GROUP BY hour
            ON CONFLICT (source, hashtag, hour) DO UPDATE SET count = excluded.count
            """,
            [source, hashtag, since_hour],
        ).rowcount

    def tracking_checkpoint(self, source: str, hashtag: str) -> str | None:
        row = self.db.execute(
            "SELECT since_id FROM tracking_checkpoints WHERE source = ? AND hashtag = ?",
            [source, hashtag],
        ).fetchone()
        return row[0] if row else None

    def save_tracking_checkpoint(self, source: str, hashtag: str, since_id: str | None) -> None:
        """Where the next search for `hashtag` starts, and (updated_at) when it was refreshed."""
        self.db["tracking_checkpoints"].upsert(
            {"source": source, "hashtag": hashtag, "since_id": since_id, "updated_at": stamp()},
            pk=("source", "hashtag"),
        )

    def tracking_refreshed_at(self, source: str) -> dict[str, str]:
        rows = self.db.execute(
            "SELECT hashtag, updated_at FROM tracking_checkpoints WHERE source = ?", [source]
        ).fetchall()
        return dict(rows)

    def tracking_requests_made(self, source: str, day: str) -> int:
        row = self.db.execute(
            "SELECT requests FROM tracking_requests WHERE source = ? AND day = ?", [source, day]
        ).fetchone()
        return row[0] if row else 0

    def take_tracking_request(self, source: str, day: str, budget: int) -> bool:
        """Count one request against the day's budget before it is made; False once it is spent."""
        with self.immediate():
            made = self.tracking_requests_made(source, day)
            if made >= budget:
                return False
            self.db["tracking_requests"].upsert(
                {"source": source, "day": day, "requests": made + 1}, pk=("source", "day")
            )
        return True

    def raise_tracking_alert(self, source: str, problem: str, detail: str) -> bool:
        """Record a problem with a source. True the first time, when it is to be reported; False
        while the same problem persists."""
        now = stamp()
        with self.db.atomic():
            inserted = self.db.execute(
                "INSERT OR IGNORE INTO tracking_alerts"
                " (source, problem, detail, first_seen, reported_at) VALUES (?, ?, ?, ?, ?)",
                [source, problem, detail, now, now],
            ).rowcount
            if not inserted:
                self.db.execute(
                    "UPDATE tracking_alerts SET detail = ? WHERE source = ? AND problem = ?",
                    [detail, source, problem],
                )
        return bool(inserted)

    def clear_tracking_alerts(self, source: str) -> bool:
        """Forget the source's problems; True if it had any (they are over now)."""
        return bool(
            self.db.execute("DELETE FROM tracking_alerts WHERE source = ?", [source]).rowcount
        )

    def tracking_alerts(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM tracking_alerts ORDER BY first_seen, source")

    def hashtag_daily_counts(self, since_hour: str) -> list[dict[str, Any]]:
        """Counts per source, hashtag and UTC day, from `since_hour` on."""
        return list(
            self.rows(
                "SELECT source, hashtag, substr(hour, 1, 10) AS day, sum(count) AS count"
                " FROM hashtag_counts WHERE hour >= ? GROUP BY source, hashtag, day",
                [since_hour],
            )
        )

    def top_hashtag_posts(self, since: str, limit: int) -> list[dict[str, Any]]:
        """The most engaged posts created since `since` (likes, reposts, replies and quotes)."""
        return list(
            self.rows(
                "SELECT * FROM hashtag_posts WHERE created_at >= ?"
                " ORDER BY likes + reposts + replies + quotes DESC, created_at DESC LIMIT ?",
                [since, limit],
            )
        )
