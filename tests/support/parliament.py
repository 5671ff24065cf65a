"""postcodes.io and the UK Parliament Members API, faked at the HTTP edge in their documented
response shapes (api.postcodes.io/docs; the Members API swagger). Shared by the MP tests and the
inbound benchmark."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from bot.mps import Constituency

POSTCODES = "https://api.postcodes.io"
MEMBERS = "https://members-api.parliament.uk"
WESTMINSTER = Constituency(code="E14001172", name="Cities of London and Westminster")

Handler = Callable[[httpx.Request], httpx.Response]


# --- documented response shapes ---------------------------------------------------------------


def postcode_found(postcode: str = "SW1A 1AA", *, old_name: str | None = None) -> dict:
    """GET /postcodes/{postcode}, trimmed to the fields around the constituency."""
    name, code = WESTMINSTER.name, WESTMINSTER.code
    return {
        "status": 200,
        "result": {
            "postcode": postcode,
            "outcode": postcode.split()[0],
            "incode": postcode.split()[1],
            "country": "England",
            "admin_district": "Westminster",
            "parliamentary_constituency": old_name or name,
            "parliamentary_constituency_2024": name,
            "codes": {
                "admin_district": "E09000033",
                "parliamentary_constituency": "E14000639" if old_name else code,
                "parliamentary_constituency_2024": code,
            },
        },
    }


def postcode_without_constituency(postcode: str, country: str, pseudo_code: str) -> dict:
    """GET /postcodes/{postcode} in Jersey, Guernsey or the Isle of Man: a real postcode whose
    constituency (like its other areas) is an ONS pseudo-code (L99999999 Channel Islands,
    M99999999 Isle of Man) with no name."""
    answer = postcode_found(postcode)
    result = answer["result"]
    result.update(
        country=country,
        admin_district=None,
        parliamentary_constituency=None,
        parliamentary_constituency_2024=None,
    )
    result["codes"] = dict.fromkeys(result["codes"], pseudo_code)
    return answer


JERSEY = postcode_without_constituency("JE2 4WD", "Channel Islands", "L99999999")
GUERNSEY = postcode_without_constituency("GY1 1AA", "Channel Islands", "L99999999")
ISLE_OF_MAN = postcode_without_constituency("IM1 1AD", "Isle of Man", "M99999999")
NOT_FOUND = {"status": 404, "error": "Postcode not found"}
TERMINATED = {
    "status": 200,
    "result": {
        "postcode": "E1W 1UU",
        "year_terminated": 2007,
        "month_terminated": 12,
        "longitude": -0.051135,
        "latitude": 51.508774,
        "eastings": 534812,
        "northings": 180747,
    },
}


def member(member_id: int, name: str, constituency: str, constituency_id: int) -> dict:
    """A MemberItem.value from the Members API."""
    return {
        "id": member_id,
        "nameListAs": name,
        "nameDisplayAs": name,
        "nameFullTitle": f"{name} MP",
        "nameAddressAs": None,
        "latestParty": {"id": 15, "name": "Labour", "abbreviation": "Lab"},
        "gender": "F",
        "latestHouseMembership": {
            "membershipFrom": constituency,
            "membershipFromId": constituency_id,
            "house": 1,
            "membershipStartDate": "2024-07-04T00:00:00",
            "membershipEndDate": None,
            "membershipStatus": {"statusIsActive": True, "statusDescription": "Current Member"},
        },
        "thumbnailUrl": f"{MEMBERS}/api/Members/{member_id}/Thumbnail",
    }


def constituency_item(
    constituency_id: int, name: str, sitting: dict | None, *, ended: bool = False
) -> dict:
    """A ConstituencyItem as /api/Location/Constituency/Search lists it."""
    representation = (
        {
            "member": {"value": sitting, "links": []},
            "representation": sitting["latestHouseMembership"],
        }
        if sitting
        else None
    )
    return {
        "value": {
            "id": constituency_id,
            "name": name,
            "startDate": "2010-05-06T00:00:00" if ended else "2024-07-04T00:00:00",
            "endDate": "2024-05-30T00:00:00" if ended else None,
            "currentRepresentation": representation,
        },
        "links": [],
    }


def search_result(*items: dict) -> dict:
    return {
        "items": list(items),
        "totalResults": len(items),
        "resultContext": "",
        "skip": 0,
        "take": 20,
        "links": [],
    }


SITTING = member(5001, "Jane Example", WESTMINSTER.name, 4600)
CONSTITUENCY_SEARCH = search_result(
    # The abolished seat of the same name comes first, with a former member.
    constituency_item(
        3600, WESTMINSTER.name, member(4000, "Former Member", WESTMINSTER.name, 3600), ended=True
    ),
    constituency_item(4600, WESTMINSTER.name, SITTING),
)


def contacts(*, email: str | None = "jane.example.mp@parliament.uk", x: str | None = None) -> dict:
    """GET /api/Members/{id}/Contact (ContactInformationListItem: every ContactInformation
    field the Members API's schema lists, null where an office leaves it empty)."""
    unused = {"line3": None, "line4": None, "line5": None, "fax": None, "website": None}
    entries = [
        {
            "type": "Constituency office",
            "typeDescription": "Constituency office",
            "typeId": 4,
            "isPreferred": False,
            "isWebAddress": False,
            "notes": None,
            "line1": "1 High Street",
            "line2": "London",
            "postcode": "SW1A 0AA",
            "phone": "020 7946 0000",
            "email": "caseworker@example.org",
            **unused,
        },
        {
            "type": "Parliamentary office",
            "typeDescription": "Parliamentary office",
            "typeId": 1,
            "isPreferred": True,
            "isWebAddress": False,
            "notes": None,
            "line1": "House of Commons",
            "line2": "London",
            "postcode": "SW1A 0AA",
            "phone": "020 7219 3000",
            "email": email,
            **unused,
        },
    ]
    if x:
        entries.append(
            {
                "type": "X (formerly Twitter)",
                "typeDescription": "X (formerly Twitter)",
                "typeId": 7,
                "isPreferred": False,
                "isWebAddress": True,
                "notes": None,
                "line1": x,
                "line2": None,
                "postcode": None,
                "phone": None,
                "email": None,
                **unused,
            }
        )
    return {"value": entries, "links": []}


# --- a fake network ---------------------------------------------------------------------------


class FlakyService:
    """postcodes.io that can be switched off (`down`: "503", or "timeout" for no answer at all)
    and on again; working, it knows no postcode (404, as for an unknown one)."""

    def __init__(self) -> None:
        self.down: str | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if self.down == "503":
            return httpx.Response(503, text="<html>Service Unavailable</html>")
        return httpx.Response(404, json={"status": 404, "error": "Postcode not found"})


class FakeServices:
    """Answers by path; records every request so tests can count who was asked what."""

    def __init__(self, routes: dict[str, Handler | dict | int]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(request.url.path)
        if route is None:
            return httpx.Response(404, json={"status": 404, "error": "Not found"})
        if callable(route):
            return route(request)
        if isinstance(route, int):
            return httpx.Response(route, json={"status": route, "error": "Server error"})
        return httpx.Response(route.get("status", 200), json=route)

    def asked(self, host: str) -> int:
        return sum(1 for request in self.requests if request.url.host == host)


def lookup_routes(**overrides: Handler | dict | int) -> dict[str, Handler | dict | int]:
    routes: dict[str, Handler | dict | int] = {
        "/postcodes/SW1A1AA": postcode_found(),
        "/api/Location/Constituency/Search": CONSTITUENCY_SEARCH,
        "/api/Members/5001/Contact": contacts(x="https://x.com/JaneExampleMP"),
    }
    routes.update(overrides)
    return routes


def client(services: Callable) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(services))


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


async def never_answers(request: httpx.Request) -> httpx.Response:
    """A service that accepts the request and never answers (any outside service)."""
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def broken_json(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b"<html>Service Unavailable</html>")


# --- a full sync of the Members API -----------------------------------------------------------


def members_page(request: httpx.Request, total: int) -> httpx.Response:
    """GET /api/Members/Search, paginated like the real one (take at most 20)."""
    skip, take = int(request.url.params["skip"]), int(request.url.params["take"])
    items = [
        {"value": member(6000 + n, f"Member {n}", f"Constituency {n}", 7000 + n), "links": []}
        for n in range(skip, min(skip + take, total))
    ]
    return httpx.Response(
        200,
        json={
            "items": items,
            "totalResults": total,
            "resultContext": "",
            "skip": skip,
            "take": take,
            "links": [],
        },
    )


class ConcurrencyProbe:
    """Contact answers that count how many are in flight at once."""

    def __init__(self, failing_member: int | None = None) -> None:
        self.in_flight = self.most = 0
        self.failing_member = failing_member

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0)
        self.in_flight -= 1
        member_id = int(request.url.path.split("/")[3])
        if member_id == self.failing_member:
            return httpx.Response(500)
        return httpx.Response(200, json=contacts(email=f"member{member_id}@parliament.uk"))


def sync_transport(total: int, probe: ConcurrencyProbe) -> httpx.AsyncClient:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/Members/Search":
            assert request.url.params["House"] == "1"
            assert request.url.params["IsCurrentMember"] == "true"
            return members_page(request, total)
        return await probe(request)

    return client(handler)
