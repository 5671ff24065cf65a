"""Databases as earlier versions of the bot left them, to upgrade in a test."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from bot.consent import DAILY_PROMPT
from bot.storage.migrations import migrations

BEFORE_CONSENT_BY_KIND = "0015_consent_by_kind"
OLD_WORDING = "daily-prompt-2026-v1"
SOME_TIME = "2026-11-25T09:00:00+00:00"


def before_consent_by_kind(path: Path, daily_prompt: dict[int, list[bool]]) -> None:
    """A database from before consent by kind (version 0.1), with one supporter per entry of
    `daily_prompt`: their answers to the only question then, the daily prompt, in order (a yes
    then a no is a /stop; no answer at all, someone who never chose)."""
    old = Database(sqlite3.connect(path))
    migrations.apply(old, stop_before=BEFORE_CONSENT_BY_KIND)
    for user_id, answers in daily_prompt.items():
        old["supporters"].insert(
            {
                "user_id": user_id,
                "language": "en",
                "created_at": SOME_TIME,
                "referral_code": f"code{user_id}",
                "opted_in": int(bool(answers and answers[-1])),
            }
        )
        for granted in answers:
            old["consents"].insert(
                {
                    "user_id": user_id,
                    "subject": DAILY_PROMPT,
                    "granted": int(granted),
                    "wording_version": OLD_WORDING,
                    "at": SOME_TIME,
                }
            )
    old.close()
