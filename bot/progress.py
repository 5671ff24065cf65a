"""A supporter's checklist: which of the campaign's actions they have done, and what is next."""

from __future__ import annotations

from dataclasses import dataclass

PETITION_SIGNED = "petition_signed"
MP_LETTER_SENT = "mp_letter_sent"
SOLIDARITY_POSTED = "solidarity_posted"
SOLIDARITY_WRITTEN = "solidarity_written"
SHARED = "shared"

# Each journey on the checklist, in the order we suggest them, and the actions that complete it.
JOURNEYS: dict[str, frozenset[str]] = {
    "petition": frozenset({PETITION_SIGNED}),
    "mp": frozenset({MP_LETTER_SENT}),
    "solidarity": frozenset({SOLIDARITY_POSTED, SOLIDARITY_WRITTEN}),
    "share": frozenset({SHARED}),
}


def same_journey(kind: str) -> frozenset[str]:
    """Every action that completes the journey `kind` completes: posting a solidarity letter
    and writing one here both count as solidarity."""
    return next((kinds for kinds in JOURNEYS.values() if kind in kinds), frozenset({kind}))


@dataclass(frozen=True)
class Checklist:
    done: tuple[str, ...]
    todo: tuple[str, ...]

    @property
    def next_step(self) -> str | None:
        return self.todo[0] if self.todo else None


def checklist(done_actions: set[str]) -> Checklist:
    done = tuple(name for name, kinds in JOURNEYS.items() if kinds & done_actions)
    todo = tuple(name for name in JOURNEYS if name not in done)
    return Checklist(done=done, todo=todo)
