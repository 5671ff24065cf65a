"""`make try` previews everything the bot shows: every button on screen keeps one number for the
session, links and copy texts are spelled out, pictures and files are saved and their paths
printed, and with sample data the whole MP journey works with no network."""

from __future__ import annotations

import pytest
from pydantic import HttpUrl

from bot.app.build import ORGANISER_COMMANDS
from bot.app.console import introduction, session
from bot.app.samples import SAMPLE_PETITION_SIGNATURES, sample_postcodes
from messages.i18n import plain, text


@pytest.fixture
async def trial(settings, campaign, tmp_path):
    async with session(settings, campaign, sample_data=True, files=tmp_path / "files") as trial:
        yield trial


def number_of(trial, label: str) -> int:
    """The number the console shows for the button labelled `label` (the newest, if several)."""
    return max(number for number, button in trial.console.buttons.items() if button.text == label)


async def press(trial, label: str) -> None:
    await trial.type(str(number_of(trial, label)))


async def test_both_welcome_keyboards_can_be_pressed_and_numbers_never_change_meaning(
    trial, capsys
):
    await trial.type("/start")
    shown = capsys.readouterr().out
    assert "[2] Português" in shown and "[7] Neither, thanks" in shown  # two keyboards, one count
    await trial.type("2")  # the language keyboard, not the question below it
    assert plain(text("pt", "core.language.changed")) in capsys.readouterr().out
    declined = number_of(trial, text("pt", "consent.none_button"))
    await trial.type(str(declined))
    assert "▫️ mensagem diária: não" in capsys.readouterr().out
    await trial.type(str(declined))  # its message now shows the menu instead
    assert f"[{declined}] is no longer on screen" in capsys.readouterr().out


async def test_links_copy_texts_and_the_whole_mp_journey_work_offline(trial, capsys):
    await trial.type("/start")
    await press(trial, "Neither, thanks")
    await press(trial, "🏛 Write to your MP")
    await press(trial, "🔎 Find my MP")
    await trial.type("SW1A 1AA")
    assert "Your MP is Alex Sample" in capsys.readouterr().out
    await trial.type("Ana")
    await trial.type("I volunteer at a refuge.")
    handover = capsys.readouterr().out
    assert "[copy] 📋 Copy the email address: alex.sample.mp@parliament.uk" in handover
    assert "[link] ✉️ Write through WriteToThem: https://www.writetothem.com/" in handover
    assert "https://x.com/intent/tweet?text=%40AlexSampleMP" in handover
    assert "I volunteer at a refuge." in handover


@pytest.mark.parametrize(
    ("postcode", "answer"),
    [
        ("M1 1AE", "lists no email address"),
        ("LS1 1UR", "Leeds Central and Headingley"),
        ("E1W 1UU", "no longer in use"),
        ("GY1 1AA", "no MP at Westminster"),
        ("JE2 3AB", "no MP at Westminster"),
        ("IM1 1AA", "no MP at Westminster"),
        ("SW1A 9ZZ", "couldn't find that postcode"),
    ],
)
async def test_each_sample_postcode_previews_its_path(trial, capsys, postcode, answer):
    await trial.type("/start")
    await press(trial, "Neither, thanks")
    await press(trial, "🏛 Write to your MP")
    await press(trial, "🔎 Find my MP")
    await trial.type(postcode)
    if postcode == "M1 1AE":
        await trial.type("Ana")
        await trial.type("I volunteer at a refuge.")
    assert answer in capsys.readouterr().out


def test_the_sample_postcodes_listed_at_start_are_the_ones_answered():
    listed = [postcode for postcode, _ in sample_postcodes()]
    assert listed == ["SW1A 1AA", "BS1 5TR", "M1 1AE", "LS1 1UR", "GY1 1AA", "E1W 1UU"]


def test_the_opening_lines_name_every_organiser_command_and_what_waits_for_its_time():
    opening = introduction(sample_data=False)
    assert all(f"/{command}" in opening for command in ORGANISER_COMMANDS)
    assert "lobby reminders" in opening and "only comes if this session is still open" in opening


async def test_pictures_and_files_are_saved_and_their_paths_printed(trial, tmp_path, capsys):
    await trial.type("/start")
    await trial.type("/stats")  # the console user is an organiser
    await trial.type("/export")
    out = capsys.readouterr().out
    saved = sorted((tmp_path / "files").iterdir())
    assert [path.suffix for path in saved] == [".png", ".csv", ".csv", ".csv"]
    assert saved[0].read_bytes().startswith(b"\x89PNG")
    for path in saved:
        assert f"saved: {path}]" in out


async def test_inline_links_show_their_address(trial, capsys):
    await trial.type("/start")
    await press(trial, "Neither, thanks")
    await press(trial, "🆘 Help and support")
    out = capsys.readouterr().out
    assert "<a href" not in out
    assert "(https://" in out  # a support line's website, after its name


async def test_sample_data_shows_a_parliament_petitions_live_count(
    settings, campaign, tmp_path, capsys
):
    parliament = campaign.model_copy(
        update={"petition_url": HttpUrl("https://petition.parliament.uk/petitions/700123")}
    )
    async with session(settings, parliament, sample_data=True, files=tmp_path) as trial:
        await trial.type("/start")
        await press(trial, "Neither, thanks")
        await press(trial, "✍️ Petition")
    assert f"{SAMPLE_PETITION_SIGNATURES:,}" in capsys.readouterr().out
