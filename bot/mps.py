"""Write to your MP: postcode -> constituency (postcodes.io) -> current MP (UK Parliament Members
API), an SQLite cache of MPs, the letter with the links that hand it over, and "Did your MP
reply?" fourteen days later.

The postcode is only ever sent to postcodes.io; it is never stored, logged or put into a link.
The Members API publishes no GSS codes, so MPs are cached under the constituency's normalised
name, the one key both services share (see `constituency_key`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
from telegram import InlineKeyboardMarkup

from bot.consent import FOLLOWUP_KIND
from bot.delivery import (
    CANCELLED,
    PENDING,
    SENDING,
    SENT,
    SKIPPED,
    UNKNOWN,
    Audience,
    attach_keyboards,
    create_broadcast,
)
from bot.storage import utcnow

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.consent import Rules
    from bot.storage import Storage

logger = logging.getLogger(__name__)

# A supporter waits for the whole lookup, retries included, at most this long; then the bot
# offers WriteToThem instead (D8: the answer comes within about 6 s whatever the services do).
LOOKUP_SECONDS = 5.0
# One request: a hanging service is cut off (and counted as failing) within the lookup's time.
REQUEST_TIMEOUT = httpx.Timeout(4.0, connect=2.0)
T = TypeVar("T")
# Answers worth a second try of the same GET (idempotent): a proxy or server in trouble.
_RETRY_STATUSES = frozenset({502, 503, 504})
CACHE_MAX_AGE = dt.timedelta(days=7)
SYNC_CONCURRENCY = 5
MEMBERS_PAGE_SIZE = 20  # the Members API's maximum `take`
PERSONAL_SENTENCE_LIMIT = 500
SIGNATURE_LIMIT = 100

# Longest input worth looking at: a postcode is at most 7 characters plus a little stray spacing.
_POSTCODE_INPUT_LIMIT = 32
# Outward code (A9, A99, AA9, AA99, A9A, AA9A), then the inward code (9AA).
_OUTWARD_CODE = r"[A-Z][0-9]{1,2}|[A-Z][A-HJ-Y][0-9]{1,2}|[A-Z][0-9][A-Z]|[A-Z][A-HJ-Y][0-9][A-Z]"
_OUTWARD = re.compile(_OUTWARD_CODE)
_POSTCODE = re.compile(rf"GIR0AA|(?:{_OUTWARD_CODE})[0-9][A-Z]{{2}}")
# Jersey, Guernsey and the Isle of Man have their own parliaments and no MP at Westminster:
# postcodes.io gives their postcodes these ONS pseudo-codes (Channel Islands, Isle of Man) as
# the constituency, with no name.
_CROWN_DEPENDENCY_CODES = ("L99999999", "M99999999")
# Their postcode areas (Jersey, Guernsey, the Isle of Man): known from the postcode itself, so
# the answer needs no lookup and holds while postcodes.io is down.
_CROWN_DEPENDENCY_AREAS = ("JE", "GY", "IM")
_X_HANDLE_IN_URL = re.compile(r"(?:twitter|x)\.com/(?:#!/)?@?([A-Za-z0-9_]{1,15})", re.IGNORECASE)
_X_HANDLE_ALONE = re.compile(r"@?([A-Za-z0-9_]{1,15})")
X_INTENT_URL = "https://x.com/intent/tweet"
# A constituency's GSS code, as in E14001063 (England), W07000081 (Wales), S14000021...
GSS_CODE = re.compile(r"[EWSN][0-9]{8}")
MIN_PARTIAL_NAME = 3  # characters of a name that may match part of a longer one


# --- errors -----------------------------------------------------------------------------------


# What supporters answer to "Did your MP reply?", in the order the buttons show them. Only
# "not yet" may be changed later. Stored in mp_followups.outcome; counted per constituency.
REPLY_NOT_YET = "not_yet"
REPLY_OUTCOMES = ("supportive", "unsupportive", "form_letter", REPLY_NOT_YET, "no_reply")
# Where a letter's "Did your MP reply?" stands, as /mydata tells it (`followup_stage`): answered;
# to be asked on its day, or then only if they chose what comes next (the campaign being over
# by then), or not at all (/stop since the letter); queued in the broadcast asking it; asked;
# sent without knowing whether it arrived; not asked (left out, skipped, refused or cancelled).
ANSWERED, WAITING, AFTER_CAMPAIGN, STOPPED = "answered", "waiting", "after_campaign", "stopped"
QUEUED, ASKED, UNSURE, NOT_ASKED = "queued", "asked", "unsure", "not_asked"
# A broadcast whose recipients may not all be written yet.
_RECIPIENTS_OPEN = ("draft", "scheduled", "preparing")


def start_followups(
    storage: Storage,
    now: dt.datetime,
    consent: str | None,
    texts: Mapping[str, str],
    keyboards: Callable[[int], Mapping[str, InlineKeyboardMarkup]],
) -> int | None:
    """Put every follow-up due at `now` (to those who said yes to `consent`, a bot.consent
    subject, None: no choice needed) in one broadcast of the delivery engine, created in the
    same transaction: each is asked at most once and, once in it, delivered whatever happens
    to the process (Promise D). `texts` and `keyboards(broadcast_id)` are the question and its
    answers by language. Returns the broadcast's id, None if nothing was due."""
    with storage.immediate():
        if not storage.mp_followups_due(now, consent):
            return None
        broadcast_id = create_broadcast(
            storage,
            kind=FOLLOWUP_KIND,
            texts=texts,
            audience=Audience(mp_followups=True),
            scheduled_for=now,
        )
        attach_keyboards(storage, broadcast_id, keyboards(broadcast_id))
        storage.ask_mp_followups(broadcast_id, now, consent)
    return broadcast_id


def followup_stage(
    followup: Mapping[str, Any], supporter: Mapping[str, Any], rules: Rules
) -> tuple[str, str | None]:
    """Where the supporter's follow-up stands (a row of `Storage.personal_data`, with what
    became of the broadcast asking it), and for one not asked why: its delivery's outcome or
    skip reason, CANCELLED for a broadcast cancelled before their turn, None when they were
    left out of its recipients. "Asked" only once Telegram took the question: never while it
    is only queued, nor when its delivery was skipped, refused or cancelled."""
    if followup["outcome"]:
        return ANSWERED, None
    if followup["broadcast_id"] is None:
        if followup["asked_at"]:
            return UNSURE, None  # marked asked before its send, before the delivery engine
        if supporter["stopped_at"] and supporter["stopped_at"] >= followup["sent_at"]:
            return STOPPED, None
        due = dt.datetime.fromisoformat(followup["due_at"])
        if rules.over(due) and not supporter["whats_next_opted_in"]:
            return AFTER_CAMPAIGN, None
        return WAITING, None
    status = followup["delivery_status"]
    if status in (None, PENDING, SENDING):
        if followup["broadcast_status"] == CANCELLED:
            return NOT_ASKED, CANCELLED
        if status is None and followup["broadcast_status"] not in _RECIPIENTS_OPEN:
            return NOT_ASKED, None  # left out when its recipients were written
        return QUEUED, None
    if status == SENT:
        return ASKED, None
    if status == UNKNOWN:
        return UNSURE, None
    return NOT_ASKED, followup["delivery_error"] if status == SKIPPED else status


def stage_followups(data: Mapping[str, list[dict[str, Any]]], rules: Rules) -> None:
    """Give each MP follow-up in `data` (`Storage.personal_data`) its `stage` and `why`
    (`followup_stage`)."""
    for followup in data.get("mp_followups", []):
        followup["stage"], followup["why"] = followup_stage(followup, data["supporters"][0], rules)


class MpLookupError(Exception):
    """Base of the lookup failures; each subclass gets its own message for the supporter."""


class PostcodeMalformed(MpLookupError):
    """The text is not shaped like a UK postcode."""


class PostcodeIncomplete(PostcodeMalformed):
    """Only the first half of a postcode (the outward code, e.g. 'SW1A') was sent."""


class NoWestminsterSeat(MpLookupError):
    """A real postcode in Jersey, Guernsey or the Isle of Man: there is no MP to write to."""


class PostcodeNotFound(MpLookupError):
    """postcodes.io does not know the postcode; `terminated` if it was in use once."""

    def __init__(self, terminated: bool) -> None:
        super().__init__("terminated postcode" if terminated else "unknown postcode")
        self.terminated = terminated


class SeatVacant(MpLookupError):
    """The constituency has no MP at the moment (e.g. before a by-election)."""

    def __init__(self, constituency: Constituency) -> None:
        super().__init__(f"{constituency.name} has no current MP")
        self.constituency = constituency


class LookupUnavailable(MpLookupError):
    """A service timed out, failed or answered in a shape we don't understand."""


class LetterFieldTooLong(ValueError):
    """A supporter's text of `length` characters is over `limit`; ask again."""

    def __init__(self, limit: int, length: int) -> None:
        super().__init__(f"longer than {limit} characters")
        self.limit = limit
        self.length = length


class PersonalSentenceTooLong(LetterFieldTooLong):
    pass


class SignatureTooLong(LetterFieldTooLong):
    pass


# --- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constituency:
    code: str
    name: str


@dataclass(frozen=True)
class MP:
    member_id: int
    name: str
    party: str
    email: str | None
    x_handle: str | None
    # Known when the MP was found through a postcode; a bulk sync only knows the name.
    constituency_code: str | None
    constituency_name: str
    # The office's number, Parliament's preferred (for a lobby day in Westminster).
    phone: str | None = None

    def as_row(self) -> dict[str, Any]:
        """The MP as a row of the `mps` cache."""
        return {**asdict(self), "constituency_key": constituency_key(self.constituency_name)}


def constituency_key(name: str) -> str:
    """The constituency name as both services can agree on it: no accents, case or punctuation."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def match_constituencies(typed: str, known: dict[str, str]) -> list[tuple[str, str]]:
    """(code, name) of the known constituencies a typed GSS code or name means: the exact name
    (accents, case and punctuation aside) if there is one, else every name containing it (if
    enough of it was typed to mean something)."""
    code = typed.strip().upper()
    if GSS_CODE.fullmatch(code):
        return [(code, known[code])] if code in known else []
    wanted = constituency_key(typed)
    keyed = sorted(((constituency_key(name), code, name) for code, name in known.items()))
    exact = [(code, name) for key, code, name in keyed if key == wanted]
    if exact or len(wanted) < MIN_PARTIAL_NAME:
        return exact
    return [(code, name) for key, code, name in keyed if wanted in key]


def normalise_postcode(raw: str) -> str:
    """'sw1a1aa', ' SW1A  1AA.', 'SW1A-1AA' -> 'SW1A 1AA'.

    Like WriteToThem, spacing and punctuation are ignored; any other character (letters of other
    scripts, emoji) means it is not a postcode. Raises PostcodeIncomplete for an outward code
    alone, PostcodeMalformed for anything else that cannot be a UK postcode.
    """
    if len(raw) > _POSTCODE_INPUT_LIMIT:
        raise PostcodeMalformed()
    compact = "".join(char for char in raw if not _is_separator(char)).upper()
    if not (compact.isascii() and compact.isalnum()):
        raise PostcodeMalformed()
    if _POSTCODE.fullmatch(compact):
        return f"{compact[:-3]} {compact[-3:]}"
    if _OUTWARD.fullmatch(compact):
        raise PostcodeIncomplete()
    raise PostcodeMalformed()


def looks_like_postcode(typed: str, half: bool = False) -> bool:
    """Whether `typed` is a whole UK postcode, however spaced or punctuated: something only to
    be used to find an MP, never kept as a name or a message. With `half`, its first half alone
    too ("SW1A"; alone, "A1" or "M5" may mean something else)."""
    try:
        normalise_postcode(typed)
    except PostcodeIncomplete:
        return half
    except PostcodeMalformed:
        return False
    return True


def _is_separator(char: str) -> bool:
    """Spacing or punctuation, which people put in postcodes in every possible way, and the
    invisible format characters (zero-width spaces, direction marks) a copy and paste or a
    right-to-left keyboard adds."""
    category = unicodedata.category(char)
    return char.isspace() or category == "Cf" or category[0] in "PZ"


# --- HTTP -------------------------------------------------------------------------------------


async def _get_json(
    http: httpx.AsyncClient, url: str, *, params: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The JSON object at `url`, None on 404; LookupUnavailable for anything else that fails.
    A GET changes nothing, so one that got no answer or a 502/503/504 is tried once more.

    Errors name the service's host only: some URLs carry a postcode, which must not be logged.
    """
    host = httpx.URL(url).host
    for last_try in (False, True):
        try:
            response = await http.get(url, params=params, timeout=REQUEST_TIMEOUT)
        except httpx.TransportError as error:
            if last_try:
                raise LookupUnavailable(f"{host}: {type(error).__name__}") from None
            continue
        except httpx.HTTPError as error:
            raise LookupUnavailable(f"{host}: {type(error).__name__}") from None
        if response.status_code not in _RETRY_STATUSES:
            break
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise LookupUnavailable(f"{host}: HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise LookupUnavailable(f"{host}: response is not JSON") from None
    if not isinstance(data, dict):
        raise LookupUnavailable(f"{host}: unexpected response")
    return data


def _shape_error(host: str, error: Exception) -> LookupUnavailable:
    return LookupUnavailable(f"{host}: unexpected response ({type(error).__name__}: {error})")


# --- postcodes.io -----------------------------------------------------------------------------


async def constituency_for_postcode(
    http: httpx.AsyncClient, base_url: str, postcode: str
) -> Constituency:
    """The Westminster constituency of a normalised postcode, on the 2024 boundaries.

    Raises PostcodeNotFound, NoWestminsterSeat (a Crown Dependency's pseudo-constituency) or
    LookupUnavailable.
    """
    base = base_url.rstrip("/")
    compact = postcode.replace(" ", "")
    data = await _get_json(http, f"{base}/postcodes/{quote(compact)}")
    if data is None:
        terminated = await _is_terminated(http, base, compact)
        raise PostcodeNotFound(terminated=terminated)
    try:
        result = data["result"]
        codes = result["codes"]
        code = codes.get("parliamentary_constituency_2024") or codes["parliamentary_constituency"]
        name = result.get("parliamentary_constituency_2024") or result["parliamentary_constituency"]
    except (KeyError, TypeError) as error:
        raise _shape_error("postcodes.io", error) from None
    if code in _CROWN_DEPENDENCY_CODES:
        raise NoWestminsterSeat()
    if not (isinstance(code, str) and isinstance(name, str) and code and name):
        raise PostcodeNotFound(terminated=False)
    return Constituency(code=code, name=name)


async def _is_terminated(http: httpx.AsyncClient, base: str, compact: str) -> bool:
    """Whether postcodes.io lists the postcode as no longer in use; False if we can't tell."""
    try:
        return await _get_json(http, f"{base}/terminated_postcodes/{quote(compact)}") is not None
    except LookupUnavailable:
        return False


# --- Members API ------------------------------------------------------------------------------


async def current_mp(
    http: httpx.AsyncClient, members_api_url: str, constituency: Constituency
) -> MP:
    """The sitting MP for `constituency`, with parliamentary email and X handle where listed."""
    base = members_api_url.rstrip("/")
    found = await _get_json(
        http,
        f"{base}/api/Location/Constituency/Search",
        params={"searchText": constituency.name, "take": MEMBERS_PAGE_SIZE},
    )
    try:
        current = _current_constituency(found, constituency.name)
        member = ((current.get("currentRepresentation") or {}).get("member") or {}).get("value")
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _shape_error("Members API", error) from None
    if not member:
        raise SeatVacant(constituency)
    return await _member_mp(http, base, member, constituency.code, constituency.name)


async def _member_mp(
    http: httpx.AsyncClient,
    base: str,
    member: dict[str, Any],
    constituency_code: str | None,
    constituency_name: str,
) -> MP:
    """An MP from a Members API member record, with the contact details it lists."""
    try:
        member_id = int(member["id"])
        name = member["nameDisplayAs"]
        party = (member.get("latestParty") or {}).get("name") or ""
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _shape_error("Members API", error) from None
    email, x_handle, phone = await _contact_details(http, base, member_id)
    return MP(
        member_id=member_id,
        name=name,
        party=party,
        email=email,
        x_handle=x_handle,
        constituency_code=constituency_code,
        constituency_name=constituency_name,
        phone=phone,
    )


def _current_constituency(found: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The search result for the constituency of that name that still exists (a 2024 seat
    often shares its name with the abolished one it replaced)."""
    wanted = constituency_key(name)
    for item in (found or {}).get("items") or []:
        value = item["value"]
        if value.get("endDate") is None and constituency_key(value["name"]) == wanted:
            return value
    raise LookupUnavailable(f"Members API: no current constituency named {name!r}")


async def _contact_details(
    http: httpx.AsyncClient, base: str, member_id: int
) -> tuple[str | None, str | None, str | None]:
    """(email, X handle, phone) from the member's listed contact details
    (`/api/Members/{id}/Contact`, a ContactInformationListItem); each None where not listed."""
    data = await _get_json(http, f"{base}/api/Members/{member_id}/Contact")
    if data is None:  # nothing listed
        return None, None, None
    if not isinstance(data.get("value"), list):
        raise LookupUnavailable("Members API: contact details in an unexpected shape")
    entries = [entry for entry in data["value"] if isinstance(entry, dict)]
    return _office_detail(entries, "email"), _x_handle_of(entries), _office_detail(entries, "phone")


def _office_detail(entries: list[dict[str, Any]], field: str) -> str | None:
    """An email or phone number, the Parliamentary office's if it lists one, else the first."""
    listed = [entry for entry in entries if isinstance(entry.get(field), str) and entry[field]]
    office = [entry for entry in listed if entry.get("type") == "Parliamentary office"]
    chosen = (office or listed or [None])[0]
    return chosen[field].strip() if chosen else None


def _x_handle_of(entries: list[dict[str, Any]]) -> str | None:
    for entry in entries:
        kind = (entry.get("type") or "").strip().casefold()
        if (kind == "x" or "twitter" in kind) and entry.get("line1"):
            handle = x_handle(entry["line1"])
            if handle:
                return handle
    return None


def x_handle(listed: str) -> str | None:
    """'https://x.com/Name', 'https://twitter.com/Name?lang=en', '@Name' -> 'Name'."""
    listed = listed.strip()
    match = _X_HANDLE_IN_URL.search(listed) or _X_HANDLE_ALONE.fullmatch(listed)
    return match.group(1) if match else None


# --- cache ------------------------------------------------------------------------------------


def _is_fresh(row: dict[str, Any]) -> bool:
    return dt.datetime.fromisoformat(row["updated_at"]) > utcnow() - CACHE_MAX_AGE


def _mp_from_row(row: dict[str, Any], constituency: Constituency) -> MP:
    """A cached MP, named with the constituency as the supporter's postcode resolved it."""
    return MP(
        member_id=row["member_id"],
        name=row["name"],
        party=row["party"],
        email=row["email"],
        x_handle=row["x_handle"],
        constituency_code=constituency.code,
        constituency_name=constituency.name,
        phone=row["phone"],
    )


async def find_mp(
    http: httpx.AsyncClient, settings: Settings, storage: Storage, postcode: str
) -> MP:
    """The supporter's MP from the postcode they typed: the cache when fresh, otherwise the live
    API; a Jersey, Guernsey or Isle of Man postcode is NoWestminsterSeat before any lookup.
    Raises the MpLookupError saying what went wrong; takes at most LOOKUP_SECONDS, then
    raises LookupUnavailable (sources: postcodes.io, then the UK Parliament Members API).

    When the Members API is down or slow, a stale cached MP is better than a dead end.
    """
    normalised = normalise_postcode(postcode)
    if normalised.startswith(_CROWN_DEPENDENCY_AREAS) and normalised[2].isdigit():
        raise NoWestminsterSeat()
    deadline = asyncio.get_running_loop().time() + LOOKUP_SECONDS
    constituency = await _before(
        deadline, constituency_for_postcode(http, str(settings.postcodes_api_url), normalised)
    )
    cached = storage.mp_for_constituency(constituency_key(constituency.name))
    if cached and _is_fresh(cached):
        return _mp_from_row(cached, constituency)
    try:
        mp = await _before(deadline, current_mp(http, str(settings.members_api_url), constituency))
    except LookupUnavailable as error:
        if cached is None:
            raise
        logger.warning("Members API unavailable (%s); using the cached MP", error)
        return _mp_from_row(cached, constituency)
    await storage.writable()  # the lookups took time: another connection may write meanwhile
    storage.save_mp(mp.as_row())
    return mp


async def _before(deadline: float, lookup: Awaitable[T]) -> T:
    """`lookup`'s result, or LookupUnavailable if it is not there by `deadline` (loop time)."""
    try:
        async with asyncio.timeout_at(deadline):
            return await lookup
    except TimeoutError:
        raise LookupUnavailable(f"no answer within {LOOKUP_SECONDS:.0f} s") from None


async def sync_all_mps(
    http: httpx.AsyncClient,
    members_api_url: str,
    storage: Storage,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Refresh every sitting MP from the Members API; returns how many were saved.

    An MP whose contact details can't be fetched keeps their previous cache row (logged).
    """
    base = members_api_url.rstrip("/")
    members = await _sitting_members(http, base)
    limit = asyncio.Semaphore(SYNC_CONCURRENCY)
    done = saved = 0

    async def refresh(member: dict[str, Any]) -> None:
        nonlocal done, saved
        try:
            async with limit:
                mp = await _synced_mp(http, base, member)
            storage.save_mp(mp.as_row())
            saved += 1
        except LookupUnavailable as error:
            logger.warning("Skipped member %s in MP sync: %s", member.get("id"), error)
        done += 1
        if progress:
            progress(done, len(members))

    await asyncio.gather(*(refresh(member) for member in members))
    return saved


async def _sitting_members(http: httpx.AsyncClient, base: str) -> list[dict[str, Any]]:
    """Every current member of the Commons, page by page."""
    members: list[dict[str, Any]] = []
    skip, total = 0, 1
    while skip < total:
        page = await _get_json(
            http,
            f"{base}/api/Members/Search",
            params={
                "House": 1,
                "IsCurrentMember": "true",
                "skip": skip,
                "take": MEMBERS_PAGE_SIZE,
            },
        )
        try:
            total = int((page or {})["totalResults"])
            items = [item["value"] for item in page["items"]]
        except (KeyError, TypeError, ValueError) as error:
            raise _shape_error("Members API", error) from None
        if not items:
            break
        members.extend(items)
        skip += MEMBERS_PAGE_SIZE
    return members


async def _synced_mp(http: httpx.AsyncClient, base: str, member: dict[str, Any]) -> MP:
    try:
        constituency_name = member["latestHouseMembership"]["membershipFrom"]
    except (KeyError, TypeError) as error:
        raise _shape_error("Members API", error) from None
    return await _member_mp(http, base, member, None, constituency_name)


# --- handing the letter over ------------------------------------------------------------------


def _with_params(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), *params.items()], quote_via=quote)
    return urlunsplit(parts._replace(query=query))


def writetothem_url(base: str) -> str:
    """WriteToThem's form for writing to a Westminster MP, which asks for the postcode itself.
    The link carries no postcode: Telegram keeps every message, and its links, in the chat."""
    return _with_params(str(base), {"a": "westminstermp"})


def x_post_url(text: str, hashtags: Iterable[str], handle: str | None = None) -> str:
    """X's page for writing a post with `text` and `hashtags`, addressed to @handle if given."""
    tags = ",".join(tag.lstrip("#") for tag in hashtags)
    words = f"@{handle} {text}" if handle else text
    return _with_params(X_INTENT_URL, {"text": words, "hashtags": tags})


def tweet_mp_url(mp: MP, text: str, hashtags: Iterable[str]) -> str | None:
    """An X post addressed to the MP, or None when they list no X account."""
    if not mp.x_handle:
        return None
    return x_post_url(text, hashtags, mp.x_handle)
