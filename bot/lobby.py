"""Lobby days: supporters meet their MP in person on a day organisers set up (the mass lobby of
the seed text: 260 supporters, 65 MPs, #masslobby).

An event has texts in three languages (title, place, what to bring; Portuguese and Spanish fall
back to English when organisers give none), a start, an RSVP deadline and a hashtag. Supporters
say yes with their postcode, which finds their MP (bot.mps) and is then dropped: the RSVP keeps
the constituency and the MP, never the postcode. Around the day the bot reminds those going
(the evening before and on the morning), offers everyone else an email or a post to their MP,
and afterwards asks each person who said yes once how it went.

Every message around an event is a broadcast of the delivery engine (bot.delivery: paced,
403s handled, resumed after a crash), created in the same transaction as what it reports: the
moment it stands for, the change or the cancellation. What it says comes rendered by the caller.

Nothing here knows Telegram or renders text: `bot.storage` keeps the rows, `messages.lobby`
renders, `handlers.lobby` and `scheduler.lobby` drive.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.campaign import DEFAULT_LANGUAGE
from bot.delivery import create_broadcast
from bot.mps import MP, constituency_key
from bot.stats import csv_bytes
from bot.typed import says_something

if TYPE_CHECKING:
    from bot.storage import Storage

# The texts organisers write, each in up to three languages; English is required for title and
# place, "what to bring" may be left out altogether.
TEXT_FIELDS = ("title", "place", "bring")
TEXT_LIMITS = {"title": 120, "place": 300, "bring": 500}
# A place names somewhere to go: a few letters at least ("ok", "?" or an emoji do not), on
# as many lines as an address on an envelope; a short reply typed at the step is not one.
PLACE_MIN_LETTERS = 3
PLACE_MAX_LINES = 6
REPLIES = frozenset(
    {"ok", "okay", "yes", "no", "sim", "não", "sí", "si", "vale", "thanks", "obrigado", "gracias"}
)
STORY_LIMIT = 600
SIGNATURE_LIMIT = 60

OPEN, CANCELLED = "open", "cancelled"
GOING, NOT_GOING = "yes", "cancelled"

# What a supporter answers to "How did it go?", in the order the buttons show them.
OUTCOMES = ("met_supportive", "met_undecided", "met_opposed", "met_staffer", "not_met")

# Stories for the organisers' live blog: only with the author's permission, after moderation.
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"

# When the reminders and the question afterwards go out, in the bot's time zone.
EVE_REMINDER_TIME = dt.time(18, 0)
MORNING_REMINDER_TIME = dt.time(8, 0)
MORNING_REMINDER_LEAD = dt.timedelta(hours=2)  # at the latest, for an early start
ASK_OUTCOME_AFTER = dt.timedelta(hours=6)

# The moments a job acts on an event, each at most once per supporter (or once per event),
# and the news of a cancellation, sent when an organiser cancels it.
EVE, MORNING, FALLBACK, OUTCOME = "eve", "morning", "fallback", "outcome"
MOMENTS = (EVE, MORNING, FALLBACK, OUTCOME)

# Broadcast audiences around one event: who said yes, who lives where nobody is going yet,
# and everyone else (offered an email or a post to their MP on the day).
GOING_AUDIENCE, UNCOVERED_AUDIENCE, NOT_GOING_AUDIENCE = "going", "uncovered", "not_going"
# Those going who have not said /stop since: told of a change or a cancellation, and asked how
# it went (not an organiser's choice in the broadcast composer).
STILL_GOING_AUDIENCE = "still_going"

# One hashtag as X reads one: letters of any script, digits and _, not digits alone
# ("#DíaDeLobby" is one; a coalition writes in three languages).
_HASHTAG = re.compile(r"#?(\w*[^\W\d]\w*)")
HASHTAG_LIMIT = 50


class LobbyInputError(ValueError):
    """Something an organiser or supporter typed can't be used; `limit` when it was too long."""

    def __init__(self, problem: str, limit: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.limit = limit


@dataclass(frozen=True)
class LobbyEvent:
    """One lobby day. Times are aware datetimes in UTC; texts are {language: text}."""

    id: int
    title: Mapping[str, str]
    place: Mapping[str, str]
    bring: Mapping[str, str]
    starts_at: dt.datetime
    rsvp_deadline: dt.datetime
    hashtag: str
    status: str
    revision: int = 0  # raised when the start or the place changes

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LobbyEvent:
        """An event from its `lobby_events` row (texts decoded by storage, ISO times)."""
        return cls(
            id=row["id"],
            title=row["title"],
            place=row["place"],
            bring=row["bring"],
            starts_at=dt.datetime.fromisoformat(row["starts_at"]),
            rsvp_deadline=dt.datetime.fromisoformat(row["rsvp_deadline"]),
            hashtag=row["hashtag"],
            status=row["status"],
            revision=row["revision"],
        )

    def text(self, field: str, language: str) -> str | None:
        """The field in `language`, else in English; None for a "what to bring" left out."""
        texts = getattr(self, field)
        return texts.get(language) or texts.get(DEFAULT_LANGUAGE)

    def rsvp_open(self, now: dt.datetime) -> bool:
        """Whether supporters may still say yes at `now`: open, before deadline and start."""
        return self.status == OPEN and now < min(self.rsvp_deadline, self.starts_at)

    def is_over(self, now: dt.datetime) -> bool:
        """Whether the event has begun by `now`."""
        return now >= self.starts_at

    def local_day(self, zone: ZoneInfo) -> dt.date:
        """The event's date in `zone`."""
        return self.starts_at.astimezone(zone).date()

    def moment(self, which: str, zone: ZoneInfo) -> dt.datetime:
        """When a job acts: the reminder the evening before, the reminder on the morning (and
        the fallback for everyone not going, at the same time), the question afterwards."""
        day = self.local_day(zone)
        if which == EVE:
            eve = dt.datetime.combine(day - dt.timedelta(days=1), EVE_REMINDER_TIME, tzinfo=zone)
            return eve.astimezone(dt.UTC)
        if which in (MORNING, FALLBACK):
            morning = dt.datetime.combine(day, MORNING_REMINDER_TIME, tzinfo=zone)
            return min(morning.astimezone(dt.UTC), self.starts_at - MORNING_REMINDER_LEAD)
        if which == OUTCOME:
            return self.starts_at + ASK_OUTCOME_AFTER
        raise ValueError(f"no moment {which!r}; expected one of {MOMENTS}")

    def moment_passed(self, which: str, now: dt.datetime, zone: ZoneInfo) -> bool:
        """Whether a moment is no use any more: a reminder once the event has begun, the
        message to those not going ("today...") once the day is over. The question afterwards
        and the news of a cancellation are never too late."""
        if which in (EVE, MORNING):
            return now >= self.starts_at
        if which == FALLBACK:
            next_day = self.local_day(zone) + dt.timedelta(days=1)
            return now >= dt.datetime.combine(next_day, dt.time(0, 0), tzinfo=zone)
        return False


def moves(before: LobbyEvent, after: LobbyEvent) -> bool:
    """Whether a change is news to those going: a new start (date or time) or a new place."""
    return before.starts_at != after.starts_at or dict(before.place) != dict(after.place)


def start_moment(
    storage: Storage, event_id: int, moment: str, message: Mapping[str, Any]
) -> int | None:
    """Create the broadcast for the event's `moment` and record it, in one transaction: at most
    once, and never marked done without its broadcast. `message` holds create_broadcast's
    keyword arguments. Returns the broadcast's id, None if the moment was already done."""
    with storage.immediate():
        if storage.lobby_moment_done(event_id, moment):
            return None
        broadcast_id = create_broadcast(storage, **message)
        storage.record_lobby_moment(event_id, moment, broadcast_id)
    return broadcast_id


def save_changes(
    storage: Storage,
    event_id: int,
    values: Mapping[str, Any],
    *,
    notice: Mapping[str, Any] | None,
    rearm: list[str],
) -> tuple[bool, int | None]:
    """Save an organiser's changes to an open event, with (in the same transaction) the notice
    to those going, if any (create_broadcast's keyword arguments), and its moments in `rearm`
    made due again at the new times. Returns whether it was saved (not if the event was
    cancelled meanwhile) and the notice's broadcast id."""
    with storage.immediate():
        if not storage.update_lobby_event(event_id, **values):
            return False, None
        if rearm:
            storage.rearm_lobby_moments(event_id, rearm)
        return True, create_broadcast(storage, **notice) if notice else None


def cancel(storage: Storage, event_id: int, notice: Mapping[str, Any]) -> int | None:
    """Cancel an open event and create the news for those going, in one transaction. Returns
    the notice's broadcast id, None if the event was already cancelled (or is gone)."""
    with storage.immediate():
        if not storage.cancel_lobby_event(event_id):
            return None
        return create_broadcast(storage, **notice)


def open_events(storage: Storage) -> dict[int, LobbyEvent]:
    """Every event not cancelled, by id, whether still to come or over."""
    events = (LobbyEvent.from_row(row) for row in storage.lobby_events())
    return {event.id: event for event in events if event.status == OPEN}


def next_for(storage: Storage, user_id: int, now: dt.datetime) -> tuple[LobbyEvent, bool] | None:
    """The soonest lobby day still to come that this supporter can say yes to, or already said
    yes to, and whether they are going; None when there is none (for their checklist)."""
    for row in storage.lobby_events(open_after=now):
        event = LobbyEvent.from_row(row)
        rsvp = storage.get_rsvp(event.id, user_id)
        going = rsvp is not None and rsvp["status"] == GOING
        if going or event.rsvp_open(now):
            return event, going
    return None


def clean_text(field: str, raw: str) -> str:
    """An organiser's text for `field`, spaces tidied; LobbyInputError if it shows nothing (only
    spaces or invisible characters), is too long (TEXT_LIMITS, in characters), or, for the
    place, names nowhere ('not_a_place') or takes more than PLACE_MAX_LINES lines."""
    cleaned = "\n".join(" ".join(line.split()) for line in raw.strip().splitlines())
    if not says_something(cleaned):
        raise LobbyInputError("empty")
    if len(cleaned) > TEXT_LIMITS[field]:
        raise LobbyInputError("too_long", TEXT_LIMITS[field])
    if field == "place":
        check_place(cleaned)
    return cleaned


def check_place(place: str) -> None:
    """LobbyInputError unless `place` could be somewhere to go (see PLACE_MIN_LETTERS)."""
    letters = sum(char.isalpha() for char in place)
    if letters < PLACE_MIN_LETTERS or place.strip(" .!?").casefold() in REPLIES:
        raise LobbyInputError("not_a_place")
    if len(place.splitlines()) > PLACE_MAX_LINES:
        raise LobbyInputError("too_many_lines", PLACE_MAX_LINES)


def clean_hashtag(raw: str) -> str:
    """'masslobby', '#MassLobby ' -> '#MassLobby'; LobbyInputError unless it is one hashtag."""
    match = _HASHTAG.fullmatch(raw.strip())
    if match is None:
        raise LobbyInputError("hashtag")
    if len(match.group(1)) > HASHTAG_LIMIT:
        raise LobbyInputError("too_long", HASHTAG_LIMIT)
    return f"#{match.group(1)}"


def check_times(starts_at: dt.datetime, rsvp_deadline: dt.datetime, now: dt.datetime) -> None:
    """LobbyInputError('past') for a start already gone, ('deadline_after_start') for an RSVP
    deadline after the start."""
    if starts_at <= now:
        raise LobbyInputError("past")
    if rsvp_deadline > starts_at:
        raise LobbyInputError("deadline_after_start")


def clean_story(raw: str) -> str:
    """A supporter's story for the live blog; LobbyInputError if it shows nothing (only spaces
    or invisible characters) or is over STORY_LIMIT."""
    story = raw.strip()
    if not says_something(story):
        raise LobbyInputError("empty")
    if len(story) > STORY_LIMIT:
        raise LobbyInputError("too_long", STORY_LIMIT)
    return story


def clean_signature(raw: str) -> str:
    """How a story is signed (a first name, initials); LobbyInputError if it shows nothing (a
    blank card's signature) or is over the limit."""
    signature = " ".join(raw.split())
    if not says_something(signature):
        raise LobbyInputError("empty")
    if len(signature) > SIGNATURE_LIMIT:
        raise LobbyInputError("too_long", SIGNATURE_LIMIT)
    return signature


@dataclass(frozen=True)
class Coverage:
    """Who is going to one event, as organisers plan the day: no names, only counts."""

    going: int  # supporters with a yes
    cancelled: int  # supporters who said yes, then cancelled
    requests: int  # of those going, how many asked their MP for a meeting
    mps_by_party: Mapping[str, int]  # MPs someone is going to meet (one per seat), per party
    uncovered: list[tuple[str, str, int]]  # (code, name, supporters there) nobody going from
    outcomes: Mapping[str, int]  # answers to "How did it go?"
    asked: int  # supporters asked how it went
    stories: Mapping[str, int]  # stories per moderation status

    @property
    def mps_covered(self) -> int:
        """How many MPs someone is going to meet."""
        return sum(self.mps_by_party.values())


def coverage(storage: Storage, event_id: int) -> Coverage:
    """The organisers' view of one event, from counts only."""
    seats = storage.lobby_constituencies(event_id)
    counts = storage.rsvp_counts(event_id)
    outcomes: Counter[str] = Counter()
    for answered in storage.lobby_outcomes(event_id).values():
        outcomes.update(answered)
    return Coverage(
        going=counts.get(GOING, 0),
        cancelled=counts.get(NOT_GOING, 0),
        requests=sum(seat["requests"] for seat in seats),
        mps_by_party=Counter(seat["party"] or "" for seat in seats),
        uncovered=storage.uncovered_constituencies(event_id),
        outcomes=outcomes,
        asked=sum(seat["asked"] for seat in seats),
        stories=storage.story_counts(event_id),
    )


CSV_COLUMNS = (
    "constituency_code",
    "constituency_name",
    "mp_party",
    "going",
    "meeting_requests",
    "asked_how_it_went",
    *OUTCOMES,
)


def coverage_csv(storage: Storage, event_id: int) -> bytes:
    """One row per constituency where supporters live or someone is going: counts only, no
    names or ids. Column names are stable identifiers, the same in every language. Rows with
    `going` 0 are where to recruit."""
    outcomes = storage.lobby_outcomes(event_id)
    rows = [
        [
            seat["code"],
            seat["name"],
            seat["party"] or "",
            seat["going"],
            seat["requests"],
            seat["asked"],
            *(outcomes.get(seat["code"], {}).get(outcome, 0) for outcome in OUTCOMES),
        ]
        for seat in storage.lobby_constituencies(event_id)
    ]
    rows += [
        [code, name, "", 0, 0, 0, *(0 for _ in OUTCOMES)]
        for code, name, _ in storage.uncovered_constituencies(event_id)
    ]
    return csv_bytes(list(CSV_COLUMNS), rows)


def rsvp_mp(storage: Storage, rsvp: Mapping[str, Any]) -> MP:
    """The MP a supporter going will meet: as their RSVP recorded it, with the email, X account
    and office phone from the MP cache when it still lists that same MP."""
    cached = storage.mp_for_constituency(constituency_key(rsvp["constituency_name"]))
    same = cached if cached and cached["member_id"] == rsvp["mp_member_id"] else {}
    return MP(
        member_id=rsvp["mp_member_id"],
        name=rsvp["mp_name"],
        party=rsvp["mp_party"] or "",
        email=same.get("email"),
        x_handle=same.get("x_handle"),
        constituency_code=rsvp["constituency_code"],
        constituency_name=rsvp["constituency_name"],
        phone=same.get("phone"),
    )
