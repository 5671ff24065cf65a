"""/broadcast, driven through the real Application on the offline Bot API: compose, versions,
audience, preview, send (in the background), cancel, /stop mid-run, and organiser-only access."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import delivery
from bot.app.offline import Fault, OfflineBotAPI
from bot.consent import WHATS_NEXT
from bot.progress import MP_LETTER_SENT, PETITION_SIGNED
from bot.stats import gather_stats
from bot.storage import utcnow
from handlers.broadcast import DRAFT
from messages import broadcast as screens
from messages import consent, keyboards, text
from messages.stats import render_stats
from scheduler import broadcasts
from scheduler.daily import CATCH_UP_JOB
from tests.support.broadcasts import (
    HeldPreparation,
    compose,
    deliver,
    finish,
    message_update,
    received,
    subscribe,
)
from tests.support.fakes import run_job
from tests.support.harness import ORGANISER_ID, make_settings, running_bot, tags_in

pytestmark = pytest.mark.filterwarnings(
    # The harness initialises the Application without starting it, so PTB warns that it will
    # not await background tasks at stop; the tests await them themselves (`finish`).
    "ignore:Tasks created via:telegram.warnings.PTBUserWarning"
)

ORGANISER = ORGANISER_ID
NOT_ORGANISER = 77
NOT_ALLOWED = "only for campaign organisers"
GENERIC_ERROR = "Sorry, something went wrong"
LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 27, 19, 30, tzinfo=LONDON)  # where `clock` stops time
BRISTOL = ("E14001063", "Bristol Central")
BRISTOL_NW = ("E14001064", "Bristol North West")
LEEDS = ("E14001318", "Leeds Central and Headingley")


# --- helpers -------------------------------------------------------------------------------------


def bold(length: int) -> dict:
    return {"type": "bold", "offset": 0, "length": length}


def organiser_sees(chat) -> str:
    return "\n".join(chat.texts(ORGANISER))


def alerts(calls) -> list[str]:
    return [call.params.get("text", "") for call in calls if call.method == "answerCallbackQuery"]


def created(chat) -> list[int]:
    return [row["id"] for row in chat.storage.db.query("SELECT id FROM broadcasts")]


# --- composing, versions and sending to everyone -------------------------------------------------


ENGLISH = "<b>Day 5</b>: write to your MP"
PORTUGUESE = "Dia 5: escreva ao seu deputado"


async def test_broadcast_reaches_every_opted_in_supporter_once_in_their_language(chat):
    languages = ["en", "pt", "es"] * 10
    for user_id, code in enumerate(languages, start=100):
        subscribe(chat.storage, user_id, code)
    subscribe(chat.storage, 200, "pt", opted_in=False)
    subscribe(chat.storage, 201, "en")
    chat.storage.mark_blocked(201)

    await compose(chat, "Day 5: write to your MP", [bold(5)])
    assert screens.VERSION_PREFIX + "pt" in chat.button_data(ORGANISER)
    await chat.press(ORGANISER, screens.VERSION_PREFIX + "pt")
    await deliver(chat, message_update(chat, ORGANISER, text="Dia 5: escreva ao seu deputado"))
    await chat.press(ORGANISER, screens.CONTINUE)
    await chat.press(ORGANISER, screens.EVERYONE)

    shown = organiser_sees(chat)
    assert "<b>30</b> supporters" in shown
    assert "Supporters who use the bot in Spanish get the English version" in shown
    previews = [c.text for c in chat.api.sent(ORGANISER) if c.method == "sendMessage"]
    assert "<b>Day 5</b>: write to your MP" in previews
    assert "Dia 5: escreva ao seu deputado" in previews
    assert set(chat.button_data(ORGANISER)) == {screens.SEND, screens.SCHEDULE, screens.CANCEL}

    await chat.press(ORGANISER, screens.SEND)
    await finish(chat)

    for user_id, code in enumerate(languages, start=100):
        messages = received(chat, user_id)
        expected = PORTUGUESE if code == "pt" else ENGLISH
        assert [call.text for call in messages] == [expected], (user_id, code)
    assert received(chat, 200) == [] and received(chat, 201) == []
    assert "Delivered: <b>30</b> of 30" in chat.last_text(ORGANISER)


async def test_the_report_says_who_the_daily_cap_held_back_apart_from_who_unsubscribed(chat):
    """A second broadcast the same day is skipped for those who had one (BROADCASTS_PER_DAY=1):
    the organiser reads how many, and why, before sending it and in the report."""
    for user_id in (1, 2, 3):
        subscribe(chat.storage, user_id)
    confirmations = []
    for words in ("First news", "Second news"):
        if words == "Second news":
            subscribe(chat.storage, 4)  # joined in between: the only one to get the second
        await compose(chat, words)
        await chat.press(ORGANISER, screens.CONTINUE)
        await chat.press(ORGANISER, screens.EVERYONE)
        confirmations.append(chat.last_text(ORGANISER))
        await chat.press(ORGANISER, screens.SEND)
        await finish(chat)
    first, second = confirmations
    assert "won't get it" not in first
    assert "<b>4</b> supporters" in second
    assert "If you send it now, 3 of them won't get it" in second and "at most 1 a day" in second
    report = chat.last_text(ORGANISER)
    assert "Delivered: <b>1</b> of 4" in report
    assert "Skipped (unsubscribed before their turn): 0" in report
    assert "3 supporters will not get it today: they already had the day's campaign updates" in (
        report
    )
    assert "at most 1 a day" in report


async def test_changing_language_while_composing_keeps_the_draft_at_every_step(chat):
    """/language inside the composer, as in supporters' journeys: the draft stays, and the
    step's question is asked again in the new language."""
    subscribe(chat.storage, 1)
    await chat.send(ORGANISER, "/start")  # the language is kept on the organiser's own row
    await chat.press(ORGANISER, consent.OPTIN_NONE)

    async def switch(code: str) -> str:
        await chat.send(ORGANISER, "/language")
        await chat.press(ORGANISER, keyboards.LANGUAGE_PREFIX + code)
        assert chat.app.user_data[ORGANISER][DRAFT]["texts"] == {"en": "Day 5: write to your MP"}
        return chat.last_text(ORGANISER)

    await compose(chat)
    assert "Versões até agora" in await switch("pt")
    await chat.press(ORGANISER, screens.CONTINUE)
    assert "¿Quién debe recibirlo?" in await switch("es")
    await chat.press(ORGANISER, screens.EVERYONE)
    asked = await switch("pt")
    assert "Tudo pronto para enviar a <b>1</b> pessoa" in asked
    assert set(chat.button_data(ORGANISER)) == {screens.SEND, screens.SCHEDULE, screens.CANCEL}
    await chat.press(ORGANISER, screens.SCHEDULE)
    assert "<code>18:00</code>" in await switch("en")
    await chat.send(ORGANISER, "/cancel")
    await compose(chat)
    await chat.press(ORGANISER, screens.CONTINUE)
    await chat.press(ORGANISER, screens.EVERYONE)
    await chat.press(ORGANISER, screens.SEND)
    await finish(chat)
    assert [call.text for call in received(chat, 1)] == ["Day 5: write to your MP"]


async def test_links_and_formatting_survive_as_telegram_html(chat):
    subscribe(chat.storage, 1)
    link = {"type": "text_link", "offset": 9, "length": 8, "url": "https://example.org/sign"}
    await compose(chat, "Sign the petition <here> & share", [link])
    await chat.press(ORGANISER, screens.CONTINUE)
    await chat.press(ORGANISER, screens.EVERYONE)
    await chat.press(ORGANISER, screens.SEND)
    await finish(chat)
    assert received(chat, 1)[0].text == (
        'Sign the <a href="https://example.org/sign">petition</a> &lt;here&gt; &amp; share'
    )


async def test_photo_broadcast_sends_the_largest_photo_with_each_language_caption(chat):
    subscribe(chat.storage, 1, "en")
    subscribe(chat.storage, 2, "es")
    await chat.send(ORGANISER, "/broadcast")
    photo = [
        {"file_id": "small-id", "file_unique_id": "s", "width": 90, "height": 67},
        {"file_id": "large-id", "file_unique_id": "l", "width": 1280, "height": 960},
    ]
    caption = {"caption": "March on Saturday", "caption_entities": [bold(5)]}
    await deliver(chat, message_update(chat, ORGANISER, photo=photo, **caption))
    await chat.press(ORGANISER, screens.VERSION_PREFIX + "es")
    replies = await deliver(chat, message_update(chat, ORGANISER, photo=photo, caption="Marcha"))
    assert "as text only" in replies[-1].text
    await deliver(chat, message_update(chat, ORGANISER, text="Marcha el sábado"))
    await chat.press(ORGANISER, screens.CONTINUE)
    await chat.press(ORGANISER, screens.EVERYONE)

    previews = [call for call in chat.api.sent(ORGANISER) if call.method == "sendPhoto"]
    assert [(call.params["photo"], call.text) for call in previews] == [
        ("large-id", "<b>March</b> on Saturday"),
        ("large-id", "Marcha el sábado"),
    ]
    await chat.press(ORGANISER, screens.SEND)
    await finish(chat)
    sent = {uid: received(chat, uid) for uid in (1, 2)}
    assert [(c.method, c.params["photo"], c.text) for c in sent[1]] == [
        ("sendPhoto", "large-id", "<b>March</b> on Saturday")
    ]
    assert [(c.method, c.params["photo"], c.text) for c in sent[2]] == [
        ("sendPhoto", "large-id", "Marcha el sábado")
    ]


async def test_what_cannot_be_sent_is_refused_kindly_and_asked_for_again(chat):
    await chat.send(ORGANISER, "/broadcast")
    replies = await chat.send(ORGANISER, "x" * 5000)
    assert "That is 5,000 characters, and Telegram allows 4,096 characters" in replies[-1].text
    photo = [{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}]
    replies = await deliver(chat, message_update(chat, ORGANISER, photo=photo, caption="y" * 1100))
    assert "That is 1,100 characters, and Telegram allows 1,024 characters" in replies[-1].text
    replies = await deliver(chat, message_update(chat, ORGANISER, photo=photo))
    assert "with a caption" in replies[-1].text
    sticker = {
        "file_id": "st",
        "file_unique_id": "st",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
    replies = await deliver(chat, message_update(chat, ORGANISER, sticker=sticker))
    assert "text, or one photo" in replies[-1].text
    replies = await chat.send(ORGANISER, "x" * 4096)
    assert "Versions so far" in replies[-1].text


async def test_a_message_telegram_refuses_in_the_preview_is_never_sent(chat):
    subscribe(chat.storage, 1)
    await compose(chat)
    await chat.press(ORGANISER, screens.CONTINUE)
    chat.api.fail(
        Fault(400, "Bad Request: can't parse entities"),
        when=lambda call: call.chat_id == ORGANISER and call.text == "Day 5: write to your MP",
    )
    await chat.press(ORGANISER, screens.EVERYONE)
    assert "Telegram refused this message (Can&#x27;t parse entities)" in organiser_sees(chat)
    assert screens.SEND not in chat.button_data(ORGANISER)
    assert created(chat) == []
    replies = await chat.send(ORGANISER, "A better message")
    assert "Versions so far" in replies[-1].text


# --- audiences -----------------------------------------------------------------------------------


async def send_to(chat, audience_data: str) -> None:
    await compose(chat)
    await chat.press(ORGANISER, screens.CONTINUE)
    await chat.press(ORGANISER, audience_data)
    await chat.press(ORGANISER, screens.SEND)
    await finish(chat)


def reached(chat, user_ids) -> set[int]:
    return {user_id for user_id in user_ids if received(chat, user_id)}


async def test_language_audience_reaches_exactly_that_language(chat):
    for user_id, code in {1: "pt", 2: "pt", 3: "en", 4: "es"}.items():
        subscribe(chat.storage, user_id, code)
    subscribe(chat.storage, 5, "pt", opted_in=False)
    await send_to(chat, screens.LANGUAGE_PREFIX + "pt")
    assert "<b>2</b> supporters" in organiser_sees(chat)
    assert reached(chat, range(1, 6)) == {1, 2}


async def test_signed_but_not_written_to_their_mp_reaches_exactly_them(chat):
    subscribe(chat.storage, 1, actions=(PETITION_SIGNED,))
    subscribe(chat.storage, 2, "pt", actions=(PETITION_SIGNED,))
    subscribe(chat.storage, 3, actions=(PETITION_SIGNED, MP_LETTER_SENT))
    subscribe(chat.storage, 4, actions=(MP_LETTER_SENT,))
    subscribe(chat.storage, 5)
    subscribe(chat.storage, 6, actions=(PETITION_SIGNED,), opted_in=False)
    await send_to(chat, screens.GAP_PREFIX + "signed_no_mp")
    assert "Signed, not yet written to their MP" in organiser_sees(chat)
    assert reached(chat, range(1, 7)) == {1, 2}


async def test_not_yet_signed_reaches_only_those_who_have_not(chat):
    subscribe(chat.storage, 1, actions=(PETITION_SIGNED,))
    subscribe(chat.storage, 2, actions=(MP_LETTER_SENT,))
    subscribe(chat.storage, 3)
    await send_to(chat, screens.GAP_PREFIX + "no_petition")
    assert reached(chat, range(1, 4)) == {2, 3}


async def choose_constituency(chat, typed: str) -> list:
    await compose(chat)
    await chat.press(ORGANISER, screens.CONTINUE)
    await chat.press(ORGANISER, screens.AREA)
    return await chat.send(ORGANISER, typed)


@pytest.fixture
def constituencies(chat):
    subscribe(chat.storage, 1, constituency=BRISTOL)
    subscribe(chat.storage, 2, "es", constituency=BRISTOL)
    subscribe(chat.storage, 3, constituency=BRISTOL_NW)
    subscribe(chat.storage, 4, constituency=LEEDS)
    subscribe(chat.storage, 5, opted_in=False, constituency=BRISTOL)
    subscribe(chat.storage, 6)


@pytest.mark.parametrize(
    "typed", ["E14001063", "e14001063", "bristol central", " Bristol  CENTRAL "]
)
async def test_constituency_audience_by_code_or_name_reaches_exactly_its_supporters(
    chat, constituencies, typed
):
    await choose_constituency(chat, typed)
    assert "Bristol Central (<code>E14001063</code>), <b>2</b> supporters" in organiser_sees(chat)
    await chat.press(ORGANISER, screens.SEND)
    await finish(chat)
    assert reached(chat, range(1, 7)) == {1, 2}


async def test_a_name_matching_several_constituencies_offers_a_choice(chat, constituencies):
    replies = await choose_constituency(chat, "bristol")
    assert "Which one?" in replies[-1].text
    assert chat.button_data(ORGANISER) == [
        screens.CONSTITUENCY_PREFIX + "E14001063",
        screens.CONSTITUENCY_PREFIX + "E14001064",
    ]
    await chat.press(ORGANISER, screens.CONSTITUENCY_PREFIX + "E14001064")
    await chat.press(ORGANISER, screens.SEND)
    await finish(chat)
    assert reached(chat, range(1, 7)) == {3}


@pytest.mark.parametrize("typed", ["E14009999", "Atlantis", "<b>", "?!"])
async def test_an_unknown_constituency_is_asked_for_again(chat, constituencies, typed):
    replies = await choose_constituency(chat, typed)
    assert "Check the spelling or the code" in replies[-1].text
    replies = await chat.send(ORGANISER, "Leeds")
    assert "<b>1</b> supporter." in organiser_sees(chat)


async def test_an_audience_nobody_matches_is_said_and_another_is_asked_for(chat):
    subscribe(chat.storage, 1, "en")
    await compose(chat)
    await chat.press(ORGANISER, screens.CONTINUE)
    await chat.press(ORGANISER, screens.LANGUAGE_PREFIX + "es")
    assert "Nobody matches this audience right now" in chat.last_text(ORGANISER)
    assert screens.SEND not in chat.button_data(ORGANISER)
    await chat.press(ORGANISER, screens.EVERYONE)
    assert screens.SEND in chat.button_data(ORGANISER)


# --- in the background: cancel, /stop, and the bot keeps answering -------------------------------

MARKER = "Broadcast body"


class GatedAPI(OfflineBotAPI):
    """Holds every broadcast send (a message carrying MARKER to a supporter) until the test opens
    the gate, so a run can be caught half-way through."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.held: list[int] = []
        self.batch_held = asyncio.Event()
        self.batch_size = 0

    async def do_request(self, url, method, request_data=None, **kwargs):
        params = request_data.parameters if request_data else {}
        chat_id = params.get("chat_id")
        held = MARKER in str(params.get("text", "")) and chat_id != ORGANISER
        if held and not self.gate.is_set():
            self.held.append(int(chat_id))
            if len(self.held) == self.batch_size:
                self.batch_held.set()
            await self.gate.wait()
        return await super().do_request(url, method, request_data, **kwargs)


SUPPORTERS = range(1, 61)
BATCH = 20  # batch_size_for(rate 20): the engine sends about a second's worth at a time
# The engine claims the next batch once the one before has all gone out, so two are in flight
# while Telegram holds the first one's answers.
IN_FLIGHT = 2 * BATCH


@pytest.fixture
async def half_way(tmp_path):
    """A bot at 20 messages a second with 60 subscribers, its broadcast's first two batches
    held."""
    api = GatedAPI()
    api.batch_size = IN_FLIGHT
    async with running_bot(make_settings(tmp_path, broadcast_rate=BATCH), api) as chat:
        for user_id in SUPPORTERS:
            subscribe(chat.storage, user_id, "en")
        await compose(chat, MARKER)
        await chat.press(ORGANISER, screens.CONTINUE)
        await chat.press(ORGANISER, screens.EVERYONE)
        await chat.press(ORGANISER, screens.SEND)
        await asyncio.wait_for(api.batch_held.wait(), timeout=30)  # a safety net, not a timing
        yield chat
        api.gate.set()
        await finish(chat)


def broadcast_messages(chat) -> Counter[int]:
    return Counter(
        call.chat_id
        for call in chat.api.sent()
        if call.chat_id != ORGANISER and MARKER in call.text
    )


async def test_cancel_on_the_progress_message_stops_a_running_broadcast(half_way):
    chat = half_way
    [broadcast_id] = created(chat)
    assert screens.STOP_PREFIX + str(broadcast_id) in chat.button_data(ORGANISER)
    calls = await chat.press(ORGANISER, f"{screens.STOP_PREFIX}{broadcast_id}")
    assert "Stopping broadcast" in alerts(calls)[0]
    chat.api.gate.set()
    await finish(chat)

    assert sum(broadcast_messages(chat).values()) == IN_FLIGHT
    assert chat.storage.broadcast_status(broadcast_id) == "cancelled"
    report = chat.last_text(ORGANISER)
    assert f"Broadcast #{broadcast_id} cancelled" in report
    assert f"Delivered: <b>{IN_FLIGHT}</b> of 60" in report
    assert f"Not sent: {60 - IN_FLIGHT}" in report


async def test_stop_mid_broadcast_is_answered_at_once_and_honoured(half_way):
    chat = half_way
    waiting = next(user_id for user_id in SUPPORTERS if user_id not in chat.api.held)
    replies = await chat.send(waiting, "/stop")  # answered while the broadcast is under way (D7)
    assert "you won't get any more" in replies[-1].text
    chat.api.gate.set()
    await finish(chat)

    got = broadcast_messages(chat)
    assert waiting not in got
    assert set(got) == set(SUPPORTERS) - {waiting}
    assert max(got.values()) == 1
    assert "Skipped (unsubscribed before their turn): 1" in chat.last_text(ORGANISER)


# --- while a broadcast is preparing ---------------------------------------------------------------


async def confirmed_to_everyone(chat) -> None:
    """A broadcast composed, to everyone, waiting for Send or Schedule."""
    await compose(chat)
    await chat.press(ORGANISER, screens.CONTINUE)
    await chat.press(ORGANISER, screens.EVERYONE)


async def sent_and_held_preparing(chat, monkeypatch) -> tuple[int, HeldPreparation]:
    """Five supporters, and an organiser's broadcast to everyone sent and held while preparing
    (a slice of one supporter written: at scale a slice is 5,000); its id, and the hold."""
    monkeypatch.setattr(delivery, "PREPARE_SLICE", 1)
    for user_id in range(1, 6):
        subscribe(chat.storage, user_id)
    preparation = HeldPreparation(chat.storage)
    await confirmed_to_everyone(chat)
    await chat.press(ORGANISER, screens.SEND)
    await preparation.reached()
    [broadcast_id] = created(chat)
    assert chat.storage.broadcast_status(broadcast_id) == delivery.PREPARING
    return broadcast_id, preparation


def figures_now(chat, language: str = "en") -> str:
    """What /stats says now."""
    return render_stats(language, gather_stats(chat.storage, chat.app.bot_data.campaign, utcnow()))


async def test_a_broadcast_being_prepared_says_so_everywhere_and_cancelling_it_sends_nothing(
    chat, clock, monkeypatch
):
    """Starting a broadcast writes its recipients a slice of supporters at a time (5,000 at
    scale; one here), serving supporters between slices. Meanwhile the organiser already has
    the progress message, saying it is being prepared; /broadcast list and /stats say
    "preparing", with no total (the total so far counts only the recipients written yet).
    Cancelled then, nobody gets it, and the alert and the report say so, with no figures."""
    broadcast_id, preparation = await sent_and_held_preparing(chat, monkeypatch)

    progress = chat.api.sent(ORGANISER)[-1]
    assert f"Preparing broadcast #{broadcast_id}</b>: finding who gets it" in progress.text
    assert chat.button_data(ORGANISER) == [f"{screens.STOP_PREFIX}{broadcast_id}"]
    await chat.send(ORGANISER, "/broadcast list")
    line = chat.last_text(ORGANISER).split("\n\n")[1]
    assert line.startswith(f"#{broadcast_id} preparing: finding who gets it · Everyone opted in")
    stats = figures_now(chat)
    assert f"#{broadcast_id} broadcast, 27 November, preparing\n   nothing sent yet" in stats

    calls = await chat.press(ORGANISER, f"{screens.STOP_PREFIX}{broadcast_id}")
    assert alerts(calls) == [
        f"Broadcast #{broadcast_id} is cancelled; it had not gone to anyone yet."
        " The report follows."
    ]
    preparation.release()
    await finish(chat)

    assert all(received(chat, user_id) == [] for user_id in range(1, 6))
    report = chat.last_text(ORGANISER)
    assert f"Broadcast #{broadcast_id} cancelled" in report
    assert "It stopped while finding who gets it, before anyone was sent it." in report
    assert "Delivered" not in report and "Not sent" not in report
    stats = figures_now(chat, "pt")
    assert f"#{broadcast_id} mensagem em massa, 27 de novembro, cancelada\n   nada enviado" in stats


async def test_a_broadcast_stopped_while_preparing_says_so_and_carries_on_at_the_next_start(
    settings, api, monkeypatch
):
    """D11 while preparing: the report says it stopped before sending anything (not "0 of"
    those written so far); the next start finishes the recipients and sends to each once, with
    a progress message that says it is preparing, then how many it goes to."""
    async with running_bot(settings, api) as chat:
        broadcast_id, preparation = await sent_and_held_preparing(chat, monkeypatch)
        await chat.app.bot_data.sending.stop(grace=30)  # as a SIGTERM does
        preparation.release()
        await finish(chat)
        assert chat.storage.broadcast_status(broadcast_id) == delivery.PREPARING
        stopped = chat.last_text(ORGANISER)
    assert f"Broadcast #{broadcast_id} stopped</b> before the end" in stopped
    assert "It stopped while finding who gets it, before anyone was sent it." in stopped
    assert "Delivered" not in stopped

    api.clear()
    async with running_bot(settings, api) as chat:
        await run_job(chat.app, CATCH_UP_JOB)
        assert chat.storage.broadcast_status(broadcast_id) == "done"
    assert all(len(received(chat, user_id)) == 1 for user_id in range(1, 6))
    opened, *rest = chat.api.sent(ORGANISER)
    assert f"Preparing broadcast #{broadcast_id}</b>" in opened.text
    assert f"Sending broadcast #{broadcast_id}</b> to 5 supporters" in rest[0].text
    assert "Delivered: <b>5</b> of 5" in rest[-1].text


# --- schedule, list and cancel -------------------------------------------------------------------


async def confirmed(chat) -> None:
    subscribe(chat.storage, 1)
    await confirmed_to_everyone(chat)


async def test_a_scheduled_broadcast_waits_for_its_time_with_a_named_job(chat, clock):
    await confirmed(chat)
    await chat.press(ORGANISER, screens.SCHEDULE)
    assert "2026-11-28 18:00" in chat.last_text(ORGANISER)
    assert "(British Time)" in chat.last_text(ORGANISER)
    replies = await chat.send(ORGANISER, "2026-11-28 18:00")
    [broadcast_id] = created(chat)
    row = chat.storage.get_broadcast(broadcast_id)
    assert (row["status"], row["scheduled_for"]) == ("scheduled", "2026-11-28T18:00:00+00:00")
    assert "28 November 2026, 18:00" in replies[-1].text
    assert screens.STOP_PREFIX + str(broadcast_id) in chat.button_data(ORGANISER)
    assert chat.app.job_queue.get_jobs_by_name(broadcasts.job_name(broadcast_id))
    assert received(chat, 1) == []


@pytest.mark.parametrize(
    ("typed", "warning", "reached"),
    [
        ("2026-12-10 23:00", None, "1 supporter now"),  # the campaign's last day
        ("2026-12-20 10:00", "after the campaign ends (10 December 2026)", "0 supporters now"),
        ("2027-06-01 10:00", "on or after 10 March 2027, when supporters' data is deleted", None),
    ],
)
async def test_a_broadcast_scheduled_after_the_campaign_or_the_purge_warns_whom_it_reaches(
    chat, clock, typed, warning, reached
):
    await confirmed(chat)
    chat.storage.set_consents(1, {WHATS_NEXT: False}, "opt-in-v1")  # updates only, not after
    await chat.press(ORGANISER, screens.SCHEDULE)
    (answer,) = await chat.send(ORGANISER, typed)
    assert (warning is None) == ("⚠️" not in answer.text)
    assert warning is None or warning in answer.text
    assert reached is None or reached in answer.text


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("2026-11-27 19:00", "has already passed"),
        ("2025-12-01 10:00", "has already passed"),
        ("tomorrow-ish", "couldn't read that"),
        ("25:00", "couldn't read that"),
        ("<b>soon</b>", "couldn't read that"),
    ],
)
async def test_a_time_that_is_past_or_unreadable_is_asked_for_again(chat, clock, typed, answer):
    await confirmed(chat)
    await chat.press(ORGANISER, screens.SCHEDULE)
    replies = await chat.send(ORGANISER, typed)
    assert answer in replies[-1].text
    assert "<b>soon" not in replies[-1].text
    assert created(chat) == []
    await chat.send(ORGANISER, "18:00")
    assert chat.storage.get_broadcast(created(chat)[0])["scheduled_for"] == (
        "2026-11-28T18:00:00+00:00"
    )


async def test_the_list_shows_scheduled_broadcasts_and_cancelling_one_unschedules_it(chat, clock):
    await confirmed(chat)
    await chat.press(ORGANISER, screens.SCHEDULE)
    await chat.send(ORGANISER, "2026-11-28 18:00")
    [broadcast_id] = created(chat)

    await chat.send(ORGANISER, "/broadcast list")
    listing = chat.last_text(ORGANISER)
    assert f"#{broadcast_id} scheduled for 28 November 2026, 18:00" in listing
    assert "<i>Day 5: write to your MP</i>" in listing
    assert chat.button_data(ORGANISER) == [f"{screens.STOP_PREFIX}{broadcast_id}"]

    await chat.press(ORGANISER, f"{screens.STOP_PREFIX}{broadcast_id}")
    assert chat.storage.broadcast_status(broadcast_id) == "cancelled"
    assert not chat.app.job_queue.get_jobs_by_name(broadcasts.job_name(broadcast_id))
    assert "No broadcast is scheduled or sending" in chat.last_text(ORGANISER)
    calls = await chat.press(ORGANISER, f"{screens.STOP_PREFIX}{broadcast_id}")
    assert "already ended" in alerts(calls)[0]


async def test_the_list_button_on_the_first_question_shows_the_list(chat):
    await chat.send(ORGANISER, "/broadcast")
    assert screens.LIST in chat.button_data(ORGANISER)
    calls = await chat.press(ORGANISER, screens.LIST)
    assert [call.method for call in calls] == ["answerCallbackQuery", "sendMessage"]
    assert "No broadcast is scheduled or sending" in chat.last_text(ORGANISER)
    replies = await chat.send(ORGANISER, "Still composing")  # the question is still open
    assert "Versions so far" in replies[-1].text


async def test_an_old_button_mid_draft_leaves_the_draft_where_it_was(chat):
    await chat.send(ORGANISER, "/broadcast")
    calls = await chat.press(ORGANISER, screens.CONTINUE)  # nothing written yet
    assert "Send /broadcast to start a new one" in alerts(calls)[0]
    replies = await chat.send(ORGANISER, "The message")
    assert "Versions so far" in replies[-1].text


# --- ways out ------------------------------------------------------------------------------------


@pytest.mark.parametrize("way_out", ["/cancel", screens.CANCEL, "/menu"])
async def test_leaving_discards_the_draft_and_sends_nothing(chat, way_out):
    subscribe(chat.storage, 1)
    await compose(chat)
    assert DRAFT in chat.app.user_data[ORGANISER]
    if way_out.startswith("/"):
        await chat.send(ORGANISER, way_out)
    else:
        await chat.press(ORGANISER, way_out)
    assert DRAFT not in chat.app.user_data[ORGANISER]
    calls = await chat.press(ORGANISER, screens.CONTINUE)
    assert "Send /broadcast to start a new one" in alerts(calls)[0]
    assert created(chat) == [] and received(chat, 1) == []


async def test_a_draft_survives_a_restart(settings, api):
    async with running_bot(settings, api) as chat:
        subscribe(chat.storage, 1)
        await compose(chat)
    async with running_bot(settings, api) as chat:
        await chat.press(ORGANISER, screens.CONTINUE)
        await chat.press(ORGANISER, screens.EVERYONE)
        await chat.press(ORGANISER, screens.SEND)
        await finish(chat)
        assert [call.text for call in received(chat, 1)] == ["Day 5: write to your MP"]


# --- stale and tampered buttons (X4) -------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        screens.STOP_PREFIX + "999",
        screens.STOP_PREFIX + "abc",
        screens.STOP_PREFIX + "-1",
        screens.STOP_PREFIX + "\uff11\uff12",  # fullwidth digits
        screens.STOP_PREFIX + "9" * 40,
        screens.SEND,
        screens.SCHEDULE,
        screens.EVERYONE,
        screens.VERSION_PREFIX + "pt",
        "broadcast:nonsense",
    ],
)
async def test_stale_or_tampered_buttons_get_a_polite_answer(chat, data):
    calls = await chat.press(ORGANISER, data)
    assert alerts(calls) and alerts(calls)[0]
    assert GENERIC_ERROR not in organiser_sees(chat)
    assert created(chat) == []


@pytest.mark.parametrize(
    "data",
    [
        screens.LANGUAGE_PREFIX + "fr",
        screens.GAP_PREFIX + "bogus",
        screens.CONSTITUENCY_PREFIX + "E14001063",
        screens.CONSTITUENCY_PREFIX + "'; DROP TABLE",
        screens.AUDIENCE_PREFIX + "lang",
    ],
)
async def test_a_tampered_audience_button_asks_again(chat, data):
    subscribe(chat.storage, 1)
    await compose(chat)
    await chat.press(ORGANISER, screens.CONTINUE)
    await chat.press(ORGANISER, data)
    assert "That button has expired" in chat.last_text(ORGANISER)
    assert screens.EVERYONE in chat.button_data(ORGANISER)


async def test_the_daily_prompt_cannot_be_cancelled_through_broadcast_buttons(chat):
    from bot.delivery import create_broadcast

    prompt = create_broadcast(chat.storage, texts={"en": "Day 1"}, kind="daily_prompt")
    calls = await chat.press(ORGANISER, f"{screens.STOP_PREFIX}{prompt}")
    assert "no longer exists" in alerts(calls)[0]
    assert chat.storage.broadcast_status(prompt) == "draft"


# --- organisers only (X1) ------------------------------------------------------------------------

BUTTONS = [
    screens.LIST,
    screens.VERSION_PREFIX + "pt",
    screens.CONTINUE,
    screens.EVERYONE,
    screens.LANGUAGE_PREFIX + "en",
    screens.GAP_PREFIX + "signed_no_mp",
    screens.AREA,
    screens.CONSTITUENCY_PREFIX + "E14001063",
    screens.SEND,
    screens.SCHEDULE,
    screens.CANCEL,
    screens.STOP_PREFIX + "1",
    "broadcast:anything",
]


@pytest.mark.parametrize("command", ["/broadcast", "/broadcast list"])
async def test_a_non_organiser_gets_no_broadcast_command(chat, command):
    subscribe(chat.storage, NOT_ORGANISER)
    replies = await chat.send(NOT_ORGANISER, command)
    assert len(replies) == 1 and NOT_ALLOWED in replies[0].text
    replies = await chat.send(NOT_ORGANISER, "Everyone: meet at noon")
    assert "Versions so far" not in replies[-1].text
    assert DRAFT not in chat.app.user_data.get(NOT_ORGANISER, {})


@pytest.mark.parametrize("data", BUTTONS)
async def test_a_non_organiser_gets_no_broadcast_button(chat, data):
    subscribe(chat.storage, 1)
    scheduled = await schedule_one(chat)
    data = data.replace(screens.STOP_PREFIX + "1", f"{screens.STOP_PREFIX}{scheduled}")
    chat.storage.ensure_supporter(NOT_ORGANISER, "en")  # a supporter who started
    calls = await chat.press(NOT_ORGANISER, data)
    assert len(alerts(calls)) == 1 and NOT_ALLOWED in alerts(calls)[0]
    assert [call for call in calls if call.method != "answerCallbackQuery"] == []
    assert chat.storage.broadcast_status(scheduled) == "scheduled"
    assert received(chat, 1) == []


async def schedule_one(chat) -> int:
    """An organiser's broadcast, scheduled for a day from now."""
    await compose(chat)
    await chat.press(ORGANISER, screens.CONTINUE)
    await chat.press(ORGANISER, screens.EVERYONE)
    await chat.press(ORGANISER, screens.SCHEDULE)
    when = dt.datetime.now(LONDON) + dt.timedelta(days=1)
    await chat.send(ORGANISER, when.strftime("%Y-%m-%d %H:%M"))
    return created(chat)[-1]


async def test_an_organiser_removed_mid_draft_can_go_no_further(tmp_path, api):
    async with running_bot(make_settings(tmp_path), api) as chat:
        subscribe(chat.storage, 1)
        await compose(chat)
        await chat.press(ORGANISER, screens.CONTINUE)
    demoted = make_settings(tmp_path, organiser_ids=frozenset())
    async with running_bot(demoted, api) as chat:
        chat.storage.ensure_supporter(ORGANISER, "en")  # still a supporter who started
        calls = await chat.press(ORGANISER, screens.EVERYONE)
        assert NOT_ALLOWED in alerts(calls)[0]
        replies = await chat.send(ORGANISER, "Bristol")
        assert "Which one" not in replies[-1].text
        assert created(chat) == [] and received(chat, 1) == []


# --- free text at every step (X3) ----------------------------------------------------------------


OUR_TAGS = {"b", "i", "code"}
typed_text = (
    st.one_of(
        st.text(max_size=300),
        st.text(alphabet=st.sampled_from(list("<>&\"'/ab \n💜é:0123456789-")), max_size=40),
        st.sampled_from(["<b>bold</b>", "</code><a href='x'>", "a" * 10_000, "18:00", "E14001063"]),
    )
    .map(lambda typed: typed.lstrip("/"))
    .filter(lambda typed: typed.strip())
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(typed=typed_text)
async def test_any_text_at_any_step_gets_a_helpful_escaped_answer(chat, typed):
    subscribe(chat.storage, 1, constituency=BRISTOL)
    await chat.send(ORGANISER, "/broadcast")
    answered = await chat.send(ORGANISER, typed)
    assert answered and tags_in(answered[-1].text) <= OUR_TAGS
    assert (
        "Versions so far" if len(typed) <= 4096 else "Telegram allows 4,096 characters"
    ) in answered[-1].text
    if len(typed) > 4096:
        return
    await chat.press(ORGANISER, screens.CONTINUE)
    await chat.press(ORGANISER, screens.AREA)
    answered = await chat.send(ORGANISER, typed)
    assert answered and all(tags_in(call.text) <= OUR_TAGS for call in answered)
    assert GENERIC_ERROR not in organiser_sees(chat)
    await chat.send(ORGANISER, "E14001063")  # the preview, if the typed text was not a match
    await chat.press(ORGANISER, screens.SCHEDULE)
    answered = await chat.send(ORGANISER, typed)
    assert answered and tags_in(answered[-1].text) <= OUR_TAGS
    assert GENERIC_ERROR not in organiser_sees(chat)
    await chat.send(ORGANISER, "/cancel")


async def test_a_broadcast_is_measured_as_telegram_counts_it(chat):
    """2,100 emoji are 4,200 characters to Telegram: refused at composing, not at sending."""
    await chat.send(ORGANISER, "/broadcast")
    replies = await chat.send(ORGANISER, "💜" * 2100)
    assert "That is 4,200 characters, and Telegram allows 4,096 characters" in replies[-1].text


async def test_typing_a_buttons_words_cancels_or_goes_on_rather_than_becoming_the_message(chat):
    await chat.send(ORGANISER, "/broadcast")
    await chat.send(ORGANISER, "cancel")
    assert chat.last_text(ORGANISER) == text("en", "broadcast.cancelled")
    assert DRAFT not in chat.app.user_data[ORGANISER]
    await compose(chat, "March on Saturday")
    await chat.press(ORGANISER, screens.VERSION_PREFIX + "pt")
    await chat.send(ORGANISER, "Continue without it")
    assert screens.EVERYONE in chat.button_data(ORGANISER)  # on to the audience
    assert set(chat.app.user_data[ORGANISER][DRAFT]["texts"]) == {"en"}


async def test_the_constituency_step_can_be_cancelled_with_a_button_like_every_other(
    chat, constituencies
):
    """The question "which constituency?" was the one step of the composer with no button:
    the way out was a /cancel nothing mentioned."""
    await compose(chat)
    await chat.press(ORGANISER, screens.CONTINUE)
    await chat.press(ORGANISER, screens.AREA)
    assert "GSS code" in chat.last_text(ORGANISER)
    assert chat.button_data(ORGANISER) == [screens.CANCEL]

    await chat.press(ORGANISER, screens.CANCEL)

    assert chat.last_text(ORGANISER) == "Broadcast discarded. Nothing was sent."
    await chat.send(ORGANISER, "Bristol Central")  # no longer taken as the audience
    assert "Bristol Central (" not in organiser_sees(chat)
