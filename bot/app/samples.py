"""Sample answers for `stepup-bot try --sample-data`: postcodes.io, the UK Parliament Members API
and a Parliament petition's JSON, in their real response shapes, served at the HTTP edge (an
httpx `MockTransport`) so the real lookup code runs and the whole MP journey can be previewed
with no network.

The constituency names are real; the MPs, every id and code, and the contact details are
invented (nobody real is looked up or written to). Each sample postcode shows one path of the
journey; any other well-formed postcode is "not found", as postcodes.io says of one it does not
know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx

from bot.config import Settings
from bot.petition import PETITIONS_HOST

SAMPLE_PETITION_SIGNATURES = 12_480


@dataclass(frozen=True)
class SampleSeat:
    postcode: str
    constituency: str | None  # None: a real postcode with no Westminster seat (Crown dependency)
    code: str
    shows: str  # what this postcode previews, for the console's list
    mp: str | None = None  # None with a constituency: the seat is vacant
    party: str = ""
    email: str | None = None
    x_url: str | None = None


SEATS = (
    SampleSeat(
        "SW1A 1AA",
        "Cities of London and Westminster",
        "E14001172",
        "an MP with an email address and an X account",
        mp="Alex Sample",
        party="Labour",
        email="alex.sample.mp@parliament.uk",
        x_url="https://x.com/AlexSampleMP",
    ),
    SampleSeat(
        "BS1 5TR",
        "Bristol Central",
        "E14001130",
        "an MP with an email address and no X account",
        mp="Sam Example",
        party="Green Party",
        email="sam.example.mp@parliament.uk",
    ),
    SampleSeat(
        "M1 1AE",
        "Manchester Central",
        "E14001350",
        "an MP who lists no email address (WriteToThem)",
        mp="Robin Placeholder",
        party="Liberal Democrat",
    ),
    SampleSeat("LS1 1UR", "Leeds Central and Headingley", "E14001318", "a vacant seat"),
    # postcodes.io gives Crown dependencies an ONS pseudo-code and no constituency name.
    SampleSeat("GY1 1AA", None, "L99999999", "a postcode with no Westminster seat"),
)
# A postcode postcodes.io lists as no longer in use.
TERMINATED = "E1W 1UU"


def sample_postcodes() -> list[tuple[str, str]]:
    """(postcode, what it previews), for the console to list."""
    listed = [(seat.postcode, seat.shows) for seat in SEATS]
    return [*listed, (TERMINATED, "a postcode no longer in use")]


def compact(postcode: str) -> str:
    return postcode.replace(" ", "").upper()


def _postcode(seat: SampleSeat) -> dict[str, Any]:
    """GET /postcodes/{postcode}, trimmed to the fields around the constituency."""
    outcode, incode = seat.postcode.split()
    return {
        "status": 200,
        "result": {
            "postcode": seat.postcode,
            "outcode": outcode,
            "incode": incode,
            "country": "Channel Islands" if seat.constituency is None else "England",
            "parliamentary_constituency": seat.constituency,
            "parliamentary_constituency_2024": seat.constituency,
            "codes": {
                "parliamentary_constituency": seat.code,
                "parliamentary_constituency_2024": seat.code,
            },
        },
    }


def _terminated() -> dict[str, Any]:
    """GET /terminated_postcodes/{postcode}."""
    return {
        "status": 200,
        "result": {
            "postcode": TERMINATED,
            "year_terminated": 2007,
            "month_terminated": 12,
            "longitude": -0.051135,
            "latitude": 51.508774,
        },
    }


def _member_id(seat: SampleSeat) -> int:
    return 9000 + SEATS.index(seat)


def _member(seat: SampleSeat) -> dict[str, Any]:
    """A Members API MemberItem value."""
    return {
        "id": _member_id(seat),
        "nameListAs": seat.mp,
        "nameDisplayAs": seat.mp,
        "nameFullTitle": f"{seat.mp} MP",
        "latestParty": {"id": SEATS.index(seat) + 1, "name": seat.party},
        "latestHouseMembership": {
            "membershipFrom": seat.constituency,
            "house": 1,
            "membershipStartDate": "2024-07-04T00:00:00",
            "membershipEndDate": None,
            "membershipStatus": {"statusIsActive": True, "statusDescription": "Current Member"},
        },
    }


def _constituency_search(name: str) -> dict[str, Any]:
    """GET /api/Location/Constituency/Search?searchText=..."""
    items = []
    for seat in SEATS:
        if seat.constituency and name.casefold() in seat.constituency.casefold():
            member = _member(seat) if seat.mp else None
            representation = (
                {"member": {"value": member, "links": []}, "representation": {}} if member else None
            )
            value = {
                "id": 5000 + SEATS.index(seat),
                "name": seat.constituency,
                "startDate": "2024-07-04T00:00:00",
                "endDate": None,
                "currentRepresentation": representation,
            }
            items.append({"value": value, "links": []})
    return {"items": items, "totalResults": len(items), "skip": 0, "take": 20, "links": []}


def _contact(seat: SampleSeat) -> dict[str, Any]:
    """GET /api/Members/{id}/Contact."""
    entries: list[dict[str, Any]] = [
        {
            "type": "Parliamentary office",
            "typeId": 1,
            "isPreferred": True,
            "isWebAddress": False,
            "line1": "House of Commons",
            "line2": "London",
            "postcode": "SW1A 0AA",
            "phone": "020 7219 3000",
            "email": seat.email,
        }
    ]
    if seat.x_url:
        entries.append(
            {"type": "X (formerly Twitter)", "typeId": 7, "isWebAddress": True, "line1": seat.x_url}
        )
    return {"value": entries, "links": []}


def _petition(petition_id: int) -> dict[str, Any]:
    """GET https://petition.parliament.uk/petitions/{id}.json, trimmed to the counts."""
    by_constituency = [
        {"name": seat.constituency, "ons_code": seat.code, "signature_count": 40 + 7 * index}
        for index, seat in enumerate(SEATS)
        if seat.constituency
    ]
    return {
        "links": {"self": f"https://{PETITIONS_HOST}/petitions/{petition_id}.json"},
        "data": {
            "type": "petition",
            "id": petition_id,
            "attributes": {
                "action": "Sample petition",
                "state": "open",
                "signature_count": SAMPLE_PETITION_SIGNATURES,
                "signatures_by_constituency": by_constituency,
            },
        },
    }


def _not_found(what: str) -> httpx.Response:
    return httpx.Response(404, json={"status": 404, "error": f"{what} not found"})


def sample_lookups(settings: Settings) -> httpx.MockTransport:
    """A transport answering the MP and petition lookups from the samples above; any other
    address fails as if there were no network."""
    postcodes_host = settings.postcodes_api_url.host
    members_host = settings.members_api_url.host
    seats = {compact(seat.postcode): seat for seat in SEATS}

    def answer(request: httpx.Request) -> httpx.Response:
        host, path = request.url.host, unquote(request.url.path)
        if host == postcodes_host and path.startswith("/postcodes/"):
            seat = seats.get(compact(path.removeprefix("/postcodes/")))
            return httpx.Response(200, json=_postcode(seat)) if seat else _not_found("Postcode")
        if host == postcodes_host and path.startswith("/terminated_postcodes/"):
            if compact(path.removeprefix("/terminated_postcodes/")) == compact(TERMINATED):
                return httpx.Response(200, json=_terminated())
            return _not_found("Terminated postcode")
        if host == members_host and path == "/api/Location/Constituency/Search":
            search = request.url.params.get("searchText", "")
            return httpx.Response(200, json=_constituency_search(search))
        if host == members_host and path.endswith("/Contact"):
            by_id = {_member_id(seat): seat for seat in SEATS if seat.mp}
            seat = by_id.get(int(path.split("/")[3]))
            return httpx.Response(200, json=_contact(seat)) if seat else _not_found("Member")
        if host == PETITIONS_HOST and path.endswith(".json"):
            petition_id = int(path.removeprefix("/petitions/").removesuffix(".json"))
            return httpx.Response(200, json=_petition(petition_id))
        raise httpx.ConnectError("stepup-bot try --sample-data: no network", request=request)

    return httpx.MockTransport(answer)
