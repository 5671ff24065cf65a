"""Write to your MP, service layer: postcodes.io and the Members API faked at the HTTP edge with
the services' documented response shapes (api.postcodes.io/docs; the Members API swagger)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from bot import mps
from bot.mps import (
    MP,
    LookupUnavailable,
    NoWestminsterSeat,
    PersonalSentenceTooLong,
    PostcodeIncomplete,
    PostcodeMalformed,
    PostcodeNotFound,
    SeatVacant,
    SignatureTooLong,
    constituency_for_postcode,
    current_mp,
    find_mp,
    looks_like_postcode,
    match_constituencies,
    normalise_postcode,
    sync_all_mps,
    tweet_mp_url,
    writetothem_url,
    x_handle,
)
from messages.mp import compose_letter
from tests.support.harness import GIVE_UP_SECONDS
from tests.support.parliament import (
    GUERNSEY,
    ISLE_OF_MAN,
    JERSEY,
    MEMBERS,
    NOT_FOUND,
    POSTCODES,
    SITTING,
    TERMINATED,
    WESTMINSTER,
    ConcurrencyProbe,
    FakeServices,
    broken_json,
    client,
    constituency_item,
    contacts,
    lookup_routes,
    member,
    never_answers,
    postcode_found,
    search_result,
    sync_transport,
    timeout,
)

CANONICAL = re.compile(r"(?:[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}|GIR 0AA)")


# --- postcodes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("  Sw1A   1aA \n", "SW1A 1AA"),
        ("ec1a1bb", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("m11ae", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("cr2 6xh", "CR2 6XH"),
        ("DN551PT", "DN55 1PT"),
        ("gir 0aa", "GIR 0AA"),
        # punctuation and odd spacing, as WriteToThem accepts them
        ("SW1A-1AA", "SW1A 1AA"),
        (" SW1A  1AA.", "SW1A 1AA"),
        ("sw1a.1aa", "SW1A 1AA"),
        ("(SW1A 1AA)", "SW1A 1AA"),
        ("SW1A\u20131AA", "SW1A 1AA"),  # an en dash, as phones substitute
        ("SW1A\u00a01AA", "SW1A 1AA"),  # a non-breaking space
        ("'ec1a 1bb',", "EC1A 1BB"),
        # invisible marks a copy and paste or a right-to-left keyboard leaves in (WriteToThem
        # drops them too)
        ("SW1A 1AA\u200b", "SW1A 1AA"),
        ("\u200fSW1A\u200e 1AA", "SW1A 1AA"),
        ("\ufeffsw1a 1aa", "SW1A 1AA"),
    ],
)
def test_postcodes_are_accepted_however_they_are_typed(typed, canonical):
    assert normalise_postcode(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "hello",
        "SW1A 1A",
        "SW1A 1AAA",
        "12345",
        "1AA SW1",
        "...",
        "🙂",
        "SW1A 1AA 🙂",
        "ＳＷ１Ａ １ＡＡ",  # full-width lookalikes
        "x" * 10_000,
        "SW1A 1AA" * 1_000,
    ],
)
def test_text_that_is_not_a_postcode_is_rejected(typed):
    with pytest.raises(PostcodeMalformed) as raised:
        normalise_postcode(typed)
    assert not isinstance(raised.value, PostcodeIncomplete)


@pytest.mark.parametrize("typed", ["SW1A", "sw1a", " M1.", "EC1A ", "B33", "cr2"])
def test_the_first_half_alone_is_told_apart_from_nonsense(typed):
    with pytest.raises(PostcodeIncomplete):
        normalise_postcode(typed)


@given(st.text())
def test_any_text_gives_a_canonical_postcode_or_says_why_not(typed):
    try:
        result = normalise_postcode(typed)
    except PostcodeMalformed:
        return
    assert CANONICAL.fullmatch(result)


async def test_constituency_comes_from_the_2024_boundaries():
    services = FakeServices(
        {"/postcodes/SW1A1AA": postcode_found(old_name="Cities of London and Westminster (old)")}
    )
    async with client(services) as http:
        found = await constituency_for_postcode(http, POSTCODES, "SW1A 1AA")
    assert found == WESTMINSTER


async def test_unknown_postcode_is_not_found_and_not_terminated():
    services = FakeServices({"/postcodes/ZZ11ZZ": NOT_FOUND})
    async with client(services) as http:
        with pytest.raises(PostcodeNotFound) as raised:
            await constituency_for_postcode(http, POSTCODES, "ZZ1 1ZZ")
    assert raised.value.terminated is False


async def test_terminated_postcode_is_reported_as_no_longer_in_use():
    services = FakeServices(
        {"/postcodes/E1W1UU": NOT_FOUND, "/terminated_postcodes/E1W1UU": TERMINATED}
    )
    async with client(services) as http:
        with pytest.raises(PostcodeNotFound) as raised:
            await constituency_for_postcode(http, POSTCODES, "E1W 1UU")
    assert raised.value.terminated is True


@pytest.mark.parametrize("answer", [JERSEY, GUERNSEY, ISLE_OF_MAN], ids=["JE", "GY", "IM"])
async def test_crown_dependency_postcode_has_no_westminster_seat(answer):
    postcode = answer["result"]["postcode"]
    services = FakeServices({f"/postcodes/{postcode.replace(' ', '')}": answer})
    async with client(services) as http:
        with pytest.raises(NoWestminsterSeat):
            await constituency_for_postcode(http, POSTCODES, postcode)


async def test_postcode_with_no_constituency_at_all_is_not_found():
    unplaced = postcode_found()
    unplaced["result"]["parliamentary_constituency_2024"] = None
    unplaced["result"]["parliamentary_constituency"] = None
    unplaced["result"]["codes"] = {"parliamentary_constituency": None}
    services = FakeServices({"/postcodes/SW1A1AA": unplaced})
    async with client(services) as http:
        with pytest.raises(PostcodeNotFound):
            await constituency_for_postcode(http, POSTCODES, "SW1A 1AA")


@pytest.mark.parametrize(
    "failure",
    [500, 503, timeout, broken_json, {"status": 200, "result": {"postcode": "SW1A 1AA"}}],
    ids=["500", "503", "timeout", "not-json", "unexpected-shape"],
)
async def test_postcodes_io_failures_are_unavailable_not_crashes(failure):
    services = FakeServices({"/postcodes/SW1A1AA": failure})
    async with client(services) as http:
        with pytest.raises(LookupUnavailable) as raised:
            await constituency_for_postcode(http, POSTCODES, "SW1A 1AA")
    assert "SW1A" not in str(raised.value)


async def test_network_error_is_unavailable():
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with client(refused) as http:
        with pytest.raises(LookupUnavailable):
            await constituency_for_postcode(http, POSTCODES, "SW1A 1AA")


# --- the MP -----------------------------------------------------------------------------------


async def test_current_mp_of_the_current_seat_with_email_x_handle_and_office_phone():
    services = FakeServices(lookup_routes())
    async with client(services) as http:
        mp = await current_mp(http, MEMBERS, WESTMINSTER)
    assert mp == MP(
        member_id=5001,
        name="Jane Example",
        party="Labour",
        email="jane.example.mp@parliament.uk",
        x_handle="JaneExampleMP",
        constituency_code=WESTMINSTER.code,
        constituency_name=WESTMINSTER.name,
        phone="020 7219 3000",  # the Parliamentary office's, not the constituency office's
    )
    search = next(r for r in services.requests if r.url.path.endswith("/Search"))
    assert search.url.params["searchText"] == WESTMINSTER.name


async def test_mp_without_x_account_has_no_handle_and_no_tweet_button():
    services = FakeServices(lookup_routes(**{"/api/Members/5001/Contact": contacts()}))
    async with client(services) as http:
        mp = await current_mp(http, MEMBERS, WESTMINSTER)
    assert mp.x_handle is None
    assert tweet_mp_url(mp, "Please act", ["16Days"]) is None


async def test_mp_without_parliamentary_email_falls_back_to_a_listed_one():
    services = FakeServices(lookup_routes(**{"/api/Members/5001/Contact": contacts(email=None)}))
    async with client(services) as http:
        mp = await current_mp(http, MEMBERS, WESTMINSTER)
    assert mp.email == "caseworker@example.org"


async def test_office_phone_falls_back_to_any_listed_and_is_none_when_none_is():
    listed = contacts()
    listed["value"][1]["phone"] = None  # the Parliamentary office lists none
    services = FakeServices(lookup_routes(**{"/api/Members/5001/Contact": listed}))
    async with client(services) as http:
        assert (await current_mp(http, MEMBERS, WESTMINSTER)).phone == "020 7946 0000"
    listed["value"][0]["phone"] = None
    async with client(services) as http:
        assert (await current_mp(http, MEMBERS, WESTMINSTER)).phone is None


async def test_vacant_seat_is_its_own_error():
    vacant = search_result(constituency_item(4600, WESTMINSTER.name, None))
    services = FakeServices(lookup_routes(**{"/api/Location/Constituency/Search": vacant}))
    async with client(services) as http:
        with pytest.raises(SeatVacant) as raised:
            await current_mp(http, MEMBERS, WESTMINSTER)
    assert raised.value.constituency == WESTMINSTER


async def test_constituency_parliament_does_not_list_is_unavailable():
    others = search_result(constituency_item(1, "Somewhere Else", SITTING))
    services = FakeServices(lookup_routes(**{"/api/Location/Constituency/Search": others}))
    async with client(services) as http:
        with pytest.raises(LookupUnavailable):
            await current_mp(http, MEMBERS, WESTMINSTER)


@pytest.mark.parametrize("path", ["/api/Location/Constituency/Search", "/api/Members/5001/Contact"])
@pytest.mark.parametrize(
    "failure",
    [500, timeout, broken_json, {"items": [{"value": None}]}],
    ids=["500", "timeout", "not-json", "unexpected-shape"],
)
async def test_members_api_failures_are_unavailable(path, failure):
    services = FakeServices(lookup_routes(**{path: failure}))
    async with client(services) as http:
        with pytest.raises(LookupUnavailable):
            await current_mp(http, MEMBERS, WESTMINSTER)


@pytest.mark.parametrize(
    ("listed", "handle"),
    [
        ("https://x.com/JaneExampleMP", "JaneExampleMP"),
        ("https://twitter.com/jane_example?lang=en", "jane_example"),
        ("http://www.twitter.com/#!/JaneE", "JaneE"),
        ("@JaneE", "JaneE"),
        ("JaneE", "JaneE"),
        ("https://www.facebook.com/JaneE", None),
        ("not a handle at all", None),
    ],
)
def test_x_handle_from_what_mps_list(listed, handle):
    assert x_handle(listed) == handle


# --- the cache --------------------------------------------------------------------------------


async def test_lookup_caches_the_mp_and_reuses_it_within_a_week(settings, storage):
    services = FakeServices(lookup_routes())
    async with client(services) as http:
        first = await find_mp(http, settings, storage, "sw1a 1aa")
        second = await find_mp(http, settings, storage, "SW1A1AA")
    assert first == second
    assert second.constituency_code == WESTMINSTER.code
    assert services.asked("members-api.parliament.uk") == 2  # search + contacts, once
    assert services.asked("api.postcodes.io") == 2  # the postcode itself is never cached


async def test_cached_mp_older_than_a_week_is_refreshed(settings, storage):
    services = FakeServices(lookup_routes())
    async with client(services) as http:
        await find_mp(http, settings, storage, "SW1A 1AA")
        with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=8)):
            await find_mp(http, settings, storage, "SW1A 1AA")
    assert services.asked("members-api.parliament.uk") == 4


async def test_stale_cached_mp_is_used_when_the_members_api_is_down(settings, storage):
    async with client(FakeServices(lookup_routes())) as http:
        known = await find_mp(http, settings, storage, "SW1A 1AA")
    down = FakeServices(lookup_routes(**{"/api/Location/Constituency/Search": 503}))
    async with client(down) as http:
        with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=30)):
            found = await find_mp(http, settings, storage, "SW1A 1AA")
    assert found == known


async def test_a_service_that_never_answers_is_given_up_within_the_lookups_time(
    settings, storage, monkeypatch
):
    """D8: the supporter hears back (WriteToThem) however long postcodes.io stays silent."""
    monkeypatch.setattr(mps, "LOOKUP_SECONDS", 0.05)
    hanging = FakeServices(lookup_routes(**{"/postcodes/SW1A1AA": never_answers}))
    async with client(hanging) as http:
        with pytest.raises(LookupUnavailable, match="no answer within"):
            # unbounded, the lookup would hang the test: the guard makes that a failure
            await asyncio.wait_for(find_mp(http, settings, storage, "SW1A 1AA"), GIVE_UP_SECONDS)


async def test_stale_cached_mp_is_used_when_the_members_api_hangs(settings, storage, monkeypatch):
    async with client(FakeServices(lookup_routes())) as http:
        known = await find_mp(http, settings, storage, "SW1A 1AA")
    monkeypatch.setattr(mps, "LOOKUP_SECONDS", 0.05)
    hanging = FakeServices(lookup_routes(**{"/api/Location/Constituency/Search": never_answers}))
    async with client(hanging) as http:
        with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=30)):
            lookup = find_mp(http, settings, storage, "SW1A 1AA")
            found = await asyncio.wait_for(lookup, GIVE_UP_SECONDS)
    assert found == known


async def test_a_lookup_answered_503_or_not_at_all_is_asked_once_more(settings, storage):
    """Only GETs are repeated: asking again changes nothing at the service."""
    failures = iter([httpx.Response(503), httpx.ConnectError("refused")])

    def fails_then_answers(request: httpx.Request) -> httpx.Response:
        failure = next(failures, None)
        if isinstance(failure, Exception):
            raise failure
        return failure or httpx.Response(200, json=postcode_found())

    services = FakeServices(lookup_routes(**{"/postcodes/SW1A1AA": fails_then_answers}))
    async with client(services) as http:
        with pytest.raises(LookupUnavailable):  # a second failure: no third try
            await find_mp(http, settings, storage, "SW1A 1AA")
        found = await find_mp(http, settings, storage, "SW1A 1AA")
    assert found.constituency_code == WESTMINSTER.code
    assert all(request.method == "GET" for request in services.requests)
    assert services.asked("api.postcodes.io") == 3


async def test_members_api_down_and_nothing_cached_is_unavailable(settings, storage):
    down = FakeServices(lookup_routes(**{"/api/Location/Constituency/Search": timeout}))
    async with client(down) as http:
        with pytest.raises(LookupUnavailable):
            await find_mp(http, settings, storage, "SW1A 1AA")


async def test_jersey_postcode_never_reaches_the_members_api(settings, storage):
    services = FakeServices(lookup_routes(**{"/postcodes/JE24WD": JERSEY}))
    async with client(services) as http:
        with pytest.raises(NoWestminsterSeat):
            await find_mp(http, settings, storage, "je2-4wd")
    assert services.asked("api.postcodes.io") == 0
    assert services.asked("members-api.parliament.uk") == 0


@pytest.mark.parametrize("postcode", ["JE2 3AB", "gy1 1aa", "IM1 1AA", "im99 1ab"])
async def test_crown_dependency_postcodes_are_told_from_the_postcode_while_services_are_down(
    settings, storage, postcode
):
    down = {f"/postcodes/{postcode.replace(' ', '').upper()}": 503}
    services = FakeServices(down)
    async with client(services) as http:
        with pytest.raises(NoWestminsterSeat):
            await find_mp(http, settings, storage, postcode)
    assert services.requests == []


async def test_a_postcode_in_a_neighbouring_area_is_still_looked_up(settings, storage):
    services = FakeServices(lookup_routes())
    async with client(services) as http:
        with pytest.raises(PostcodeNotFound):
            await find_mp(http, settings, storage, "IG1 1AA")  # Ilford, not the Isle of Man
    assert services.asked("api.postcodes.io") >= 1


async def test_malformed_postcode_is_refused_before_any_request(settings, storage):
    services = FakeServices(lookup_routes())
    async with client(services) as http:
        with pytest.raises(PostcodeMalformed):
            await find_mp(http, settings, storage, "not a postcode")
    assert services.requests == []


async def test_postcode_is_nowhere_in_the_database_after_a_lookup(settings, storage, tmp_path):
    async with client(FakeServices(lookup_routes())) as http:
        await find_mp(http, settings, storage, "sw1a 1aa")
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("storage.db*"))
    assert WESTMINSTER.name.encode() in stored  # the constituency is kept...
    for form in (b"SW1A 1AA", b"SW1A1AA", b"sw1a 1aa", b"SW1A%201AA"):
        assert form not in stored  # ...the postcode is not


# --- sync -------------------------------------------------------------------------------------


async def test_sync_saves_every_sitting_mp_page_by_page(storage):
    probe = ConcurrencyProbe()
    progress: list[tuple[int, int]] = []
    async with sync_transport(45, probe) as http:
        saved = await sync_all_mps(
            http, MEMBERS, storage, progress=lambda done, total: progress.append((done, total))
        )
    assert saved == storage.mp_count() == 45
    assert progress[-1] == (45, 45)
    assert [done for done, _ in progress] == list(range(1, 46))
    row = storage.mp_for_constituency("constituency 44")
    assert row["name"] == "Member 44"
    assert row["email"] == "member6044@parliament.uk"
    assert row["phone"] == "020 7219 3000"
    assert 1 <= probe.most <= 5


async def test_sync_skips_an_mp_whose_contacts_fail_and_keeps_the_rest(storage):
    probe = ConcurrencyProbe(failing_member=6003)
    async with sync_transport(10, probe) as http:
        saved = await sync_all_mps(http, MEMBERS, storage)
    assert saved == storage.mp_count() == 9
    assert storage.mp_for_constituency("constituency 3") is None


async def test_sync_keeps_the_gss_code_a_postcode_lookup_found(settings, storage):
    async with client(FakeServices(lookup_routes())) as http:
        await find_mp(http, settings, storage, "SW1A 1AA")

    def one_member(request: httpx.Request) -> httpx.Response:
        item = {"value": member(5001, "Jane Example", WESTMINSTER.name, 4600), "links": []}
        return httpx.Response(
            200, json={"items": [item], "totalResults": 1, "skip": 0, "take": 20, "links": []}
        )

    routes = lookup_routes(**{"/api/Members/Search": one_member})
    async with client(FakeServices(routes)) as http:
        await sync_all_mps(http, MEMBERS, storage)
    row = storage.mp_for_constituency("cities of london and westminster")
    assert row["constituency_code"] == WESTMINSTER.code
    assert storage.mp_count() == 1


async def test_sync_with_the_members_api_down_is_unavailable(storage):
    async with client(FakeServices({"/api/Members/Search": 502})) as http:
        with pytest.raises(LookupUnavailable):
            await sync_all_mps(http, MEMBERS, storage)


# --- the letter and its links -----------------------------------------------------------------


def test_letter_carries_mp_constituency_sentence_and_signature(campaign):
    subject, body = compose_letter(
        campaign, "en", "Jane Example", WESTMINSTER.name, " My sister  was helped. ", "Ana"
    )
    assert subject == campaign.mp_letter.subject("en")
    assert body.startswith("Dear Jane Example,")
    assert f"I live in {WESTMINSTER.name}" in body
    assert "\n\nMy sister was helped.\n\n" in body
    assert body.endswith("Ana")


def test_blank_personal_sentence_drops_its_paragraph_cleanly(campaign):
    _, body = compose_letter(campaign, "en", "Jane Example", WESTMINSTER.name, "   ", "Ana")
    assert "{" not in body
    assert "\n\n\n" not in body
    assert all(paragraph.strip() for paragraph in body.split("\n\n"))


@pytest.mark.parametrize(
    ("language", "signed"),
    [("en", "A resident of"), ("pt", "Um(a) morador(a) de"), ("es", "Una persona que vive en")],
)
def test_unsigned_letter_is_signed_by_someone_who_lives_there_in_its_language(
    campaign, language, signed
):
    _, body = compose_letter(campaign, language, "Jane Example", WESTMINSTER.name, "", None)
    assert body.endswith(f"{signed} {WESTMINSTER.name}")


@pytest.mark.parametrize("language", ["en", "pt", "es"])
def test_every_letter_speaks_as_someone_who_lives_there_not_as_a_voter(campaign, language):
    """Many supporters cannot vote; every one of them lives somewhere (issue 13, point 7)."""
    _, body = compose_letter(campaign, language, "Jane Example", WESTMINSTER.name, "", None)
    lives_there = {"en": "I live in", "pt": "Moro em", "es": "Vivo en"}[language]
    assert f"{lives_there} {WESTMINSTER.name}" in body
    for voter in ("voter", "constituent", "eleitor", "votante", "elector"):
        assert voter not in body.lower()


def test_over_long_personal_sentence_is_refused_with_the_limit(campaign):
    with pytest.raises(PersonalSentenceTooLong) as raised:
        compose_letter(campaign, "en", "Jane Example", WESTMINSTER.name, "a" * 501, "Ana")
    assert raised.value.limit == 500


def test_over_long_signature_is_refused(campaign):
    with pytest.raises(SignatureTooLong):
        compose_letter(campaign, "en", "Jane Example", WESTMINSTER.name, "", "b" * 101)


@given(sentence=st.text(max_size=500), signature=st.text(max_size=100))
def test_any_sentence_and_signature_make_a_letter(campaign, sentence, signature):
    _, body = compose_letter(campaign, "es", "Jane Example", WESTMINSTER.name, sentence, signature)
    assert " ".join(sentence.split()) in body
    assert "{personal_sentence}" not in body


@pytest.mark.parametrize(
    ("typed", "whole", "half"),
    [
        ("SW1A 1AA", True, True),
        ("sw1a-1aa.", True, True),
        ("E1W1UU", True, True),
        ("SW1A", False, True),
        ("A1", False, True),
        ("Ana Silva", False, False),
        ("I live in E1 6AN", False, False),
        ("", False, False),
    ],
)
def test_what_looks_like_a_postcode(typed, whole, half):
    """A whole postcode, written any way, is never taken as a name or a message; half of one
    only where nothing but a postcode makes sense."""
    assert looks_like_postcode(typed) is whole
    assert looks_like_postcode(typed, half=True) is half


def test_writetothem_link_opens_the_form_for_an_mp_without_a_postcode(campaign):
    url = writetothem_url(str(campaign.writetothem_url))
    parts = urlsplit(url)
    assert parts.netloc == "www.writetothem.com"
    assert parse_qs(parts.query) == {"a": ["westminstermp"]}


def test_tweet_link_addresses_the_mp_with_the_hashtags():
    mp = MP(5001, "Jane Example", "Labour", None, "JaneExampleMP", None, WESTMINSTER.name)
    url = tweet_mp_url(mp, "Protect migrant women & girls", ["#16Days", "StepUpMigrantWomen"])
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://x.com/intent/tweet"
    query = parse_qs(parts.query)
    assert query["text"] == ["@JaneExampleMP Protect migrant women & girls"]
    assert query["hashtags"] == ["16Days,StepUpMigrantWomen"]


def test_constituencies_match_by_code_exact_name_or_part_of_a_name():
    bristol, bristol_nw = ("E14001063", "Bristol Central"), ("E14001064", "Bristol North West")
    leeds = ("E14001318", "Leeds Central and Headingley")
    known = dict([bristol, bristol_nw, leeds, ("W07000081", "Ynys Môn")])
    assert match_constituencies("e14001063", known) == [bristol]
    assert match_constituencies("E14000000", known) == []
    assert match_constituencies("ynys mon", known) == [("W07000081", "Ynys Môn")]
    assert match_constituencies("Bristol Central", known) == [bristol]
    assert match_constituencies("bristol", known) == [bristol, bristol_nw]
    assert match_constituencies("headingley", known) == [leeds]
    assert match_constituencies("!!!", known) == []
