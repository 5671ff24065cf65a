"""/stats and /export through the real Application: organisers get figures, a chart and CSV files
of totals; anyone else gets a refusal and nothing more (X1)."""

from __future__ import annotations

import csv
import io

import pytest

from messages import keyboards
from tests.support.fakes import FileKeepingAPI
from tests.support.harness import ORGANISER_ID, make_settings, running_bot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SUPPORTERS = (910_000_001, 910_000_002, 910_000_003)
STRANGER = 910_000_009


async def join(chat, user_id: int, payload: str = "", language_code: str = "en") -> None:
    await chat.send(user_id, f"/start {payload}".strip(), language_code=language_code)
    await chat.press(user_id, keyboards.OPTIN_YES, language_code=language_code)


@pytest.fixture
async def campaign(chat):
    """Three subscribed supporters (two signed the petition, one of them wrote to her MP), and
    the organiser, who is a supporter too once she has written to the bot."""
    first, second, third = SUPPORTERS
    await chat.send(ORGANISER_ID, "/start")
    await join(chat, first)
    await join(chat, second, "mp", language_code="pt")
    await join(chat, third, "ref-abc123")
    chat.storage.record_action(first, "petition_signed")
    chat.storage.record_action(second, "petition_signed")
    chat.storage.record_action(second, "mp_letter_sent", "E14001063")
    chat.storage.set_constituency(second, "E14001063", "Aldershot")
    chat.api.clear()
    return chat


async def test_stats_sends_the_figures_then_a_chart(campaign, api):
    replies = await campaign.send(ORGANISER_ID, "/stats")
    report = "\n".join(call.text for call in replies if call.method == "sendMessage")
    assert "<b>Supporters</b>: 4 · getting the daily prompt: 3" in report
    assert "Signed the petition: 2 (50%)" in report
    assert "1. Aldershot: <b>1</b>" in report
    assert "Opened from campaign links: mp 1" in report
    assert replies[-1].method == "sendPhoto"
    (method, _, photo), *_ = api.files
    assert method == "sendPhoto"
    assert photo.startswith(PNG_SIGNATURE)


async def test_stats_speaks_the_organisers_language(campaign):
    await campaign.press(ORGANISER_ID, f"{keyboards.LANGUAGE_PREFIX}pt")
    replies = await campaign.send(ORGANISER_ID, "/stats")
    assert "<b>Pessoas apoiadoras</b>: 4" in replies[0].text
    assert replies[-1].text == "Ações por dia (UTC)"


async def test_export_sends_three_csv_files_of_totals(campaign, api):
    replies = await campaign.send(ORGANISER_ID, "/export")
    assert [call.method for call in replies] == ["sendDocument"] * 3 + ["sendMessage"]
    assert "no personal data" in replies[-1].text
    tables = {
        filename.removeprefix("stepup-").rsplit("-", 3)[0]: list(
            csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
        )
        for _, filename, content in api.files
    }
    assert set(tables) == {"per-day", "per-constituency", "per-broadcast"}
    today = tables["per-day"][-1]
    assert (today["new_supporters"], today["petition_signed"], today["mp_letter_sent"]) == (
        "4",
        "2",
        "1",
    )
    assert [(row["constituency_name"], row["letters"]) for row in tables["per-constituency"]] == [
        ("Aldershot", "1")
    ]
    assert tables["per-broadcast"] == []


async def test_exported_files_hold_no_user_id_or_referral_code(campaign, api):
    await campaign.send(ORGANISER_ID, "/export")
    codes = [campaign.storage.get_supporter(user_id)["referral_code"] for user_id in SUPPORTERS]
    secrets = [str(user_id) for user_id in (*SUPPORTERS, ORGANISER_ID)] + codes + ["abc123"]
    assert len(api.files) == 3
    for _, filename, content in api.files:
        text = content.decode("utf-8-sig")
        assert list(csv.reader(io.StringIO(text))), filename
        for secret in secrets:
            assert secret not in text, (filename, secret)


@pytest.mark.parametrize("command", ["/stats", "/export"])
async def test_a_non_organiser_gets_a_refusal_and_nothing_else(campaign, api, command):
    await join(campaign, STRANGER)
    campaign.api.clear()
    replies = await campaign.send(STRANGER, command)
    assert [call.method for call in replies] == ["sendMessage"]
    assert "only for campaign organisers" in replies[0].text
    assert api.files == []


@pytest.mark.parametrize("command", ["/stats", "/export"])
async def test_with_no_organisers_configured_nobody_gets_figures(tmp_path, command):
    settings = make_settings(tmp_path, organiser_ids=frozenset())
    api = FileKeepingAPI()
    async with running_bot(settings, api) as chat:
        replies = await chat.send(ORGANISER_ID, command)
    assert [call.method for call in replies] == ["sendMessage"]
    assert api.files == []
