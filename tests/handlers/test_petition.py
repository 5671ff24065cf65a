"""The petition journey and the share step, through the real Application. The Parliament
petitions site is faked at the HTTP edge in its real JSON shape (GET /petitions/N.json)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import HttpUrl

from bot.campaign import load_campaign
from bot.petition import PetitionCounter
from messages import consent, keyboards
from messages.i18n import LANGUAGES, catalog
from messages.petition import SHARE_DONE, SIGNED
from tests.support.harness import running_bot
from tests.support.parliament import never_answers
from tests.support.petitions import PETITION, FakePetitions, petition_json

WESTMINSTER = ("E14001172", "Cities of London and Westminster")
COUNTS = petition_json(12345, {WESTMINSTER[0]: (WESTMINSTER[1], 1057), "S14000021": ("Glasgow", 3)})
PETITION_OPEN = keyboards.journey_data("petition")
SHARE_OPEN = keyboards.journey_data("share")


@pytest.fixture
def parliament_campaign(settings):
    return load_campaign(settings.campaign_file).model_copy(
        update={"petition_url": HttpUrl(PETITION)}
    )


async def use_petitions(chat, handler, **counter_options) -> None:
    """Put the fake petitions site under the bot's shared HTTP client and its petition counter."""
    data = chat.app.bot_data
    await data.http.aclose()
    data.http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    data.petition_counter = PetitionCounter(data.http, **counter_options)


async def onboard(chat, user_id: int, language_code: str = "en") -> None:
    await chat.send(user_id, "/start", language_code=language_code)
    await chat.press(user_id, consent.OPTIN_NONE, language_code=language_code)


def url_buttons(chat, user_id: int) -> dict[str, str]:
    return {button["text"]: button["url"] for button in chat.buttons(user_id) if "url" in button}


def actions(chat, user_id: int, kind: str) -> list[dict]:
    rows = chat.storage.personal_data(user_id).get("actions", [])
    return [row for row in rows if row["kind"] == kind]


def no_errors(chat, user_id: int, caplog) -> bool:
    generic = {catalog(language)["core.errors.generic"] for language in LANGUAGES}
    logged = [record for record in caplog.records if record.levelno >= logging.ERROR]
    return not logged and not generic & set(chat.texts(user_id))


# --- the petition ---------------------------------------------------------------------------


async def test_petition_explains_the_ask_and_opens_the_petition(chat):
    await onboard(chat, 1)
    await chat.press(1, PETITION_OPEN)
    campaign = chat.app.bot_data.campaign
    assert campaign.petition_ask("en") in chat.last_text(1)
    assert url_buttons(chat, 1)["✍️ Open the petition"] == str(campaign.petition_url)
    assert SIGNED in chat.button_data(1)


async def test_start_petition_deep_link_opens_the_journey(chat):
    await onboard(chat, 1)
    await chat.send(1, "/start petition")
    assert chat.app.bot_data.campaign.petition_ask("en") in chat.last_text(1)


async def test_new_supporter_from_petition_link_gets_the_petition_after_consent(chat):
    await chat.send(1, "/start petition")
    await chat.press(1, consent.OPTIN_DAILY)
    assert SIGNED in chat.button_data(1)


async def test_signing_is_recorded_once_and_the_checklist_ticks(chat):
    await onboard(chat, 1)
    await chat.press(1, PETITION_OPEN)
    await chat.press(1, SIGNED)
    await chat.press(1, SIGNED)
    assert len(actions(chat, 1, "petition_signed")) == 1
    assert "Thank you for signing" in chat.last_text(1)
    await chat.send(1, "/menu")
    assert "✅ Sign the petition" in chat.last_text(1)


async def test_after_signing_the_share_step_is_offered_and_opens(chat):
    await onboard(chat, 1)
    await chat.press(1, SIGNED)
    assert SHARE_OPEN in chat.button_data(1)
    await chat.press(1, SHARE_OPEN)
    assert "Share the campaign" in chat.last_text(1)


async def test_returning_signer_is_thanked_not_asked_to_sign_again(chat):
    await onboard(chat, 1)
    await chat.press(1, SIGNED)
    await chat.press(1, PETITION_OPEN)
    assert "You've told me you signed" in chat.last_text(1)
    assert "I've signed" not in chat.last_text(1)  # no sentence names the button it took away
    assert SIGNED not in chat.button_data(1)
    assert SHARE_OPEN in chat.button_data(1)


# --- live counts ----------------------------------------------------------------------------


async def test_parliament_petition_shows_the_total_and_no_constituency_yet(
    settings, api, parliament_campaign
):
    async with running_bot(settings, api, parliament_campaign) as chat:
        petitions = FakePetitions(COUNTS)
        await use_petitions(chat, petitions)
        await onboard(chat, 1)
        await chat.press(1, PETITION_OPEN)
        shown = chat.last_text(1)
        assert "<b>12,345</b> people have signed" in shown
        assert "of them in" not in shown
        assert str(petitions.requests[0].url) == f"{PETITION}.json"


async def test_constituency_count_is_shown_once_the_constituency_is_known(
    settings, api, parliament_campaign
):
    async with running_bot(settings, api, parliament_campaign) as chat:
        await use_petitions(chat, FakePetitions(COUNTS))
        await onboard(chat, 1)
        chat.storage.set_constituency(1, *WESTMINSTER)
        await chat.press(1, PETITION_OPEN)
        assert "<b>1,057</b> of them in Cities of London and Westminster" in chat.last_text(1)


async def test_counts_are_fetched_once_for_supporters_arriving_within_a_minute(
    settings, api, parliament_campaign
):
    async with running_bot(settings, api, parliament_campaign) as chat:
        petitions = FakePetitions(COUNTS)
        await use_petitions(chat, petitions)
        for user_id in (1, 2):
            await onboard(chat, user_id)
            await chat.press(user_id, PETITION_OPEN)
            assert "12,345" in chat.last_text(user_id)
        assert len(petitions.requests) == 1


async def test_other_petition_sites_work_without_counts_or_requests(chat, caplog):
    petitions = FakePetitions(COUNTS)
    await use_petitions(chat, petitions)
    await onboard(chat, 1)
    await chat.press(1, PETITION_OPEN)
    assert "have signed" not in chat.last_text(1)
    assert SIGNED in chat.button_data(1)
    assert petitions.requests == []
    assert no_errors(chat, 1, caplog)


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    "petitions", [FakePetitions(500), timeout], ids=["server-error", "timeout"]
)
async def test_unavailable_counts_are_simply_not_shown(
    settings, api, parliament_campaign, petitions, caplog
):
    async with running_bot(settings, api, parliament_campaign) as chat:
        await use_petitions(chat, petitions)
        await onboard(chat, 1)
        await chat.press(1, PETITION_OPEN)
        assert parliament_campaign.petition_ask("en") in chat.last_text(1)
        assert "have signed" not in chat.last_text(1)
        assert SIGNED in chat.button_data(1)
        assert no_errors(chat, 1, caplog)


def shown_after_typing(chat, user_id: int) -> list[str]:
    """What the supporter was sent after the bot last showed "typing…" ([] if it never did)."""
    calls = [call.method for call in chat.api.sent(user_id)]
    if "sendChatAction" not in calls:
        return []
    last = len(calls) - calls[::-1].index("sendChatAction")
    return [call.text for call in chat.api.sent(user_id)[last:]]


async def test_a_site_that_never_answers_gets_typing_at_once_then_the_petition_without_counts(
    settings, api, parliament_campaign, caplog
):
    async with running_bot(settings, api, parliament_campaign) as chat:
        await use_petitions(chat, never_answers, lookup_seconds=0.05)
        await onboard(chat, 1)
        await chat.press(1, PETITION_OPEN)
        [shown] = shown_after_typing(chat, 1)
        assert parliament_campaign.petition_ask("en") in shown
        assert "have signed" not in shown
        assert no_errors(chat, 1, caplog)


async def test_counts_from_the_cache_come_without_typing(settings, api, parliament_campaign):
    async with running_bot(settings, api, parliament_campaign) as chat:
        await use_petitions(chat, FakePetitions(COUNTS))
        await onboard(chat, 1)
        await chat.press(1, PETITION_OPEN)
        assert "12,345" in shown_after_typing(chat, 1)[0]
        await onboard(chat, 2)
        await chat.press(2, PETITION_OPEN)
        assert "12,345" in chat.last_text(2)
        assert shown_after_typing(chat, 2) == []


# --- sharing --------------------------------------------------------------------------------


def referral_link(chat, user_id: int) -> str:
    code = chat.storage.get_supporter(user_id)["referral_code"]
    return f"https://t.me/StepUpBot?start=ref-{code}"


def shared_posts(chat, user_id: int) -> dict[str, str]:
    """Button label -> everything the prefilled post holds (all its decoded parameters)."""
    return {
        label: " ".join(
            value for values in parse_qs(urlsplit(url).query).values() for value in values
        )
        for label, url in url_buttons(chat, user_id).items()
    }


async def test_share_buttons_prefill_text_hashtags_and_the_referral_link(chat):
    await onboard(chat, 1)
    await chat.press(1, SHARE_OPEN)
    campaign = chat.app.bot_data.campaign
    link = referral_link(chat, 1)
    posts = shared_posts(chat, 1)
    assert len(posts) == 4
    for post in posts.values():
        assert campaign.share_text("en") in post
        assert "#16Days #StepUpMigrantWomen" in post
        assert link in post
    assert f"<code>{link}</code>" in chat.last_text(1)


async def test_a_recruit_arriving_by_the_link_is_counted_for_the_referrer(chat):
    await onboard(chat, 1)
    await chat.press(1, SHARE_OPEN)
    link = urlsplit(referral_link(chat, 1))
    assert link.query in next(iter(shared_posts(chat, 1).values()))
    payload = parse_qs(link.query)["start"][0]
    await chat.send(2, f"/start {payload}")
    code = chat.storage.get_supporter(1)["referral_code"]
    assert chat.storage.get_supporter(2)["referral_source"] == f"ref-{code}"


async def test_sharing_is_recorded_once_and_the_checklist_ticks(chat):
    await onboard(chat, 1)
    await chat.send(1, "/start share")
    await chat.press(1, SHARE_DONE)
    await chat.press(1, SHARE_DONE)
    assert len(actions(chat, 1, "shared")) == 1
    assert "Thank you for sharing" in chat.last_text(1)
    await chat.press(1, SHARE_OPEN)
    assert SHARE_DONE not in chat.button_data(1)
    await chat.send(1, "/menu")
    assert "✅ Share the campaign" in chat.last_text(1)


@pytest.mark.parametrize(
    "data", [f"{SIGNED}:2", f"{SHARE_DONE}<script>", "petition:forge", "share:done:all"]
)
async def test_tampered_buttons_get_a_polite_answer_and_record_nothing(chat, data, caplog):
    await onboard(chat, 1)
    replies = await chat.press(1, data)
    answers = [call for call in replies if call.method == "answerCallbackQuery"]
    assert "expired" in answers[0].params["text"]
    assert chat.storage.done_actions(1) == set()
    assert no_errors(chat, 1, caplog)


# --- languages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "language", "total"),
    [("en", "en", "12,345"), ("pt-br", "pt", "12.345"), ("es", "es", "12,345")],
)
async def test_journey_speaks_the_supporters_language(
    settings, api, parliament_campaign, code, language, total
):
    async with running_bot(settings, api, parliament_campaign) as chat:
        await use_petitions(chat, FakePetitions(COUNTS))
        await onboard(chat, 1, code)
        chat.storage.set_constituency(1, *WESTMINSTER)
        messages = catalog(language)
        await chat.press(1, PETITION_OPEN, language_code=code)
        shown = chat.last_text(1)
        assert parliament_campaign.petition_ask(language) in shown
        assert f"<b>{total}</b>" in shown
        assert messages["petition.open_button"] in url_buttons(chat, 1)
        await chat.press(1, SIGNED, language_code=code)
        assert chat.last_text(1) == messages["petition.thanks"]
        await chat.press(1, SHARE_OPEN, language_code=code)
        assert messages["petition.share.done_button"] in [b["text"] for b in chat.buttons(1)]
        for post in shared_posts(chat, 1).values():
            assert parliament_campaign.share_text(language) in post
