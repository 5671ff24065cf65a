"""Outside services (postcodes.io, the Members API, the petition's JSON): failures in a row, and
whether organisers have heard of the outage and of its end (bot.outages)."""

from __future__ import annotations

from typing import Any

from bot.storage.base import Store, stamp


class OutageStore(Store):
    """One row per outside service that is failing, or whose recovery is still to be told."""

    def note_service_failure(self, service: str, detail: str) -> int:
        """Count one more failure in a row of an outside service (a recovery not yet reported is
        forgotten: the outage goes on); returns how many in a row."""
        with self.immediate():
            self.db.execute(
                "INSERT INTO service_outages (service, failures, detail, since)"
                " VALUES (?, 1, ?, ?) ON CONFLICT (service) DO UPDATE SET"
                " failures = failures + 1, detail = excluded.detail, recovered_at = NULL",
                [service, detail, stamp()],
            )
            query = "SELECT failures FROM service_outages WHERE service = ?"
            return self.db.execute(query, [service]).fetchone()[0]

    def note_service_success(self, service: str) -> int:
        """The service answered. Failures not yet reported are forgotten; a reported outage is
        marked over, for its recovery alert. Returns how many failures in a row this ended."""
        query = "SELECT failures, reported_at, recovered_at FROM service_outages WHERE service = ?"
        row = self.db.execute(query, [service]).fetchone()
        if row is None:
            return 0  # the usual case: one read, no write
        failures, reported_at, recovered_at = row
        if reported_at is None:
            self.db.execute("DELETE FROM service_outages WHERE service = ?", [service])
        elif recovered_at is None:
            self.db.execute(
                "UPDATE service_outages SET recovered_at = ? WHERE service = ?", [stamp(), service]
            )
        else:
            return 0  # already over, its recovery not yet reported
        return failures

    def outages_to_report(self, failures_for_outage: int) -> list[dict[str, Any]]:
        """Outages organisers have not heard of (at least `failures_for_outage` failures in a
        row), and reported ones now over."""
        return self.rows(
            "SELECT * FROM service_outages WHERE (reported_at IS NULL AND failures >= ?)"
            " OR (reported_at IS NOT NULL AND recovered_at IS NOT NULL) ORDER BY since",
            [failures_for_outage],
        )

    def mark_outage_reported(self, service: str) -> None:
        self.db.execute(
            "UPDATE service_outages SET reported_at = ? WHERE service = ?", [stamp(), service]
        )

    def close_outage(self, service: str) -> None:
        self.db.execute("DELETE FROM service_outages WHERE service = ?", [service])
