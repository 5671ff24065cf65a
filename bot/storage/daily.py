"""Daily prompt runs: which broadcast each campaign date made, and its channel and X posts."""

from __future__ import annotations

from typing import Any, ClassVar

from bot.storage.base import Store, stamp


class DailyStore(Store):
    """One row per campaign date: its broadcast and its outside posts."""

    # The outside posts a daily run makes, and the daily_runs column holding each one's status.
    DAILY_POST_COLUMNS: ClassVar[dict[str, str]] = {"channel": "channel_status", "x": "x_status"}

    def daily_run(self, campaign_date: str) -> dict[str, Any] | None:
        """The run for a local campaign date (ISO), if its prompt was prepared."""
        rows = list(self.rows("SELECT * FROM daily_runs WHERE campaign_date = ?", [campaign_date]))
        return rows[0] if rows else None

    def add_daily_run(self, campaign_date: str, day: int, broadcast_id: int) -> None:
        """Record the date's prompt; call inside `immediate()` after finding no run for it."""
        self.insert(
            "daily_runs",
            {
                "campaign_date": campaign_date,
                "day": day,
                "broadcast_id": broadcast_id,
                "created_at": stamp(),
            },
        )

    def claim_daily_post(self, campaign_date: str, target: str) -> bool:
        """Mark the date's channel or X post 'posting' if nobody has tried it yet; True if this
        caller may now make it. One statement, so two callers never both win."""
        column = self.DAILY_POST_COLUMNS[target]
        return bool(
            self.db.execute(
                f"UPDATE daily_runs SET {column} = 'posting' "
                f"WHERE campaign_date = ? AND {column} IS NULL",
                [campaign_date],
            ).rowcount
        )

    def record_daily_post(self, campaign_date: str, target: str, status: str) -> None:
        column = self.DAILY_POST_COLUMNS[target]
        self.db.execute(
            f"UPDATE daily_runs SET {column} = ? WHERE campaign_date = ?", [status, campaign_date]
        )

    def reopen_daily_posts(self, campaign_date: str) -> None:
        """Let the date's posts that failed, or were in flight when a process died, be tried
        again (once, by the caller, at start-up)."""
        for column in self.DAILY_POST_COLUMNS.values():
            self.db.execute(
                f"UPDATE daily_runs SET {column} = NULL "
                f"WHERE campaign_date = ? AND {column} IN ('posting', 'failed', 'retry')",
                [campaign_date],
            )

    def retry_daily_post(self, campaign_date: str, target: str) -> None:
        """Let the date's post that failed with tries left ('retry') be claimed again."""
        column = self.DAILY_POST_COLUMNS[target]
        self.db.execute(
            f"UPDATE daily_runs SET {column} = NULL WHERE campaign_date = ? AND {column} = 'retry'",
            [campaign_date],
        )

    def unfinished_daily_broadcasts(self, before: str) -> list[int]:
        """Daily prompts of dates before `before` (ISO) that never finished sending."""
        rows = self.db.execute(
            "SELECT r.broadcast_id FROM daily_runs r JOIN broadcasts b ON b.id = r.broadcast_id "
            "WHERE r.campaign_date < ?"
            " AND b.status IN ('draft', 'scheduled', 'preparing', 'running')"
            " ORDER BY r.campaign_date",
            [before],
        ).fetchall()
        return [broadcast_id for (broadcast_id,) in rows]
