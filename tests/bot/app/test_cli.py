"""Run modes: the real process, polling or webhook, and the offline console (`make try`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
import time_machine
from telegram.error import NetworkError

from bot.app import cli, webhook
from bot.app.cli import EXIT_CONFIG, launch_warnings, main, parser, sync_mps
from bot.campaign import load_campaign
from bot.config import Settings
from bot.storage import DatabaseUnusable, Storage
from messages import consent, i18n, mp
from tests.support.bot_api import FakeBotApi, start_bot_process
from tests.support.harness import free_port, make_settings, running_bot
from tests.support.lookups import Lookups
from tests.support.parliament import ConcurrencyProbe, client, sync_transport

SECRET = "s3cret-token_for-webhook"
NOBODY = 65534


def test_try_console_chats_offline_and_presses_buttons_by_number(tmp_path):
    script = "5\n/help\n/quit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "try", "--language", "es"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "bienvenida" in out  # greeted in the chosen language
    assert "[2] Português" in out and "[4] Los dos, por favor" in out  # both keyboards numbered
    assert "✅ mensaje diario: sí" in out  # "5" pressed "Solo el mensaje diario"
    assert "0808 2000 247" in out  # /help typed as text reached the real handler
    assert "<b>" not in out  # HTML shown as plain text
    assert "Traceback" not in result.stderr


def test_check_confirms_a_valid_configuration(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "TELEGRAM_BOT_TOKEN": "1:x", "ORGANISER_IDS": "5,6"},
    )
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "2 organisers" in result.stdout


async def test_backup_copies_a_live_database_consistently(tmp_path):
    settings = make_settings(tmp_path)
    (tmp_path / "backups").mkdir()
    async with running_bot(settings) as chat:
        await chat.send(1, "/start")
        result = subprocess.run(
            [sys.executable, "-m", "bot", "backup", str(tmp_path / "backups" / "copy.db")],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "DATABASE_PATH": str(settings.database_path)},
        )
    assert result.returncode == 0, result.stderr
    copy = Storage.open(tmp_path / "backups" / "copy.db")
    assert copy.integrity() == "ok"
    assert copy.get_supporter(1) is not None


async def test_mps_sync_saves_every_sitting_mp_with_a_progress_bar(tmp_path, capsys):
    settings = make_settings(tmp_path)
    assert await sync_mps(settings, sync_transport(650, ConcurrencyProbe())) == 0
    assert Storage.open(settings.database_path).mp_count() == 650
    captured = capsys.readouterr()
    assert "Saved 650 MPs." in captured.out
    assert "650/650" in captured.err  # the progress bar reached the end


async def test_mps_sync_says_plainly_when_the_members_api_is_down(tmp_path, capsys):
    settings = make_settings(tmp_path)
    down = client(lambda request: httpx.Response(503))
    assert await sync_mps(settings, down) != 0
    error = capsys.readouterr().err
    assert "MEMBERS_API_URL" in error
    assert "Traceback" not in error


@pytest.fixture
def environment(tmp_path, monkeypatch):
    """Settings from the environment only, as a fresh install has them."""
    monkeypatch.chdir(tmp_path)  # no developer's .env
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "stepup.db"))
    return monkeypatch


def commands() -> list[list[str]]:
    """Every `stepup-bot` command as typed (`mps sync` too), read from the parser, so that a
    command added later is covered."""

    def under(level: argparse.ArgumentParser, typed: list[str]) -> list[list[str]]:
        found = [
            command
            for action in level._actions
            if isinstance(action, argparse._SubParsersAction)
            for name, sub in action.choices.items()
            for command in under(sub, [*typed, name])
        ]
        return found or [typed]

    return under(parser(), [])


def test_every_command_is_listed():
    assert sorted(" ".join(command) for command in commands()) == [
        "backup",
        "check",
        "health",
        "mps sync",
        "run",
        "stats",
        "try",
    ]


REFUSED = [
    ("DATABASE_PATH", "no-such-folder/stepup.db"),  # a typo in the folder
    ("DATABASE_PATH", "."),  # a folder
    ("ORGANISER_IDS", "me"),
]


@pytest.mark.parametrize(
    ("command", "setting", "value"),
    [
        pytest.param(command, setting, value, id=f"{' '.join(command)}: {setting}={value}")
        for command in commands()
        for setting, value in REFUSED
        # `try` keeps a database of its own and never opens DATABASE_PATH.
        if not (command == ["try"] and setting == "DATABASE_PATH")
    ],
)
def test_every_command_refuses_what_run_refuses_in_one_line_creating_nothing(
    environment, tmp_path, capsys, command, setting, value
):
    """`stepup-bot mps sync` once created a mistyped DATABASE_PATH's folders and a database in
    them, where `run` refuses it: every command checks the settings as `run` does."""
    environment.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    # Were a command to go on regardless, it would fail at once rather than wait on a network.
    environment.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:9/bot")
    environment.setenv("MEMBERS_API_URL", "http://127.0.0.1:9")
    environment.setenv(setting, value)
    assert main(command) == EXIT_CONFIG
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"Setting {setting}: ")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("base_url", [None, "http://127.0.0.1:9/bot"])
def test_a_start_telegram_does_not_answer_blames_only_a_setting_someone_set(
    environment, tmp_path, capsys, base_url
):
    environment.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    if base_url:
        environment.setenv("TELEGRAM_BASE_URL", base_url)  # nothing listens there
    else:  # Telegram's own address, on a machine that is offline
        environment.setattr(cli, "reach_telegram", offline)
    assert main(["run"]) == EXIT_CONFIG
    (line,) = capsys.readouterr().err.strip().splitlines()
    if base_url:
        assert line.startswith(f"Setting TELEGRAM_BASE_URL: could not reach Telegram at {base_url}")
    else:
        assert line.startswith("No connection: could not reach Telegram at https://api.telegram")
        assert "TELEGRAM_BASE_URL" not in line
    assert list(tmp_path.iterdir()) == []


async def offline(settings) -> None:
    raise NetworkError("httpx.ConnectError: [Errno -2] Name or service not known")


def test_version_is_the_installed_release(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"stepup-bot {version('stepup-bot')}"


def test_check_works_without_a_token_and_warns_what_is_not_ready(environment, capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "Settings, campaign file and messages are valid" in out
    warnings = [line for line in out.splitlines() if line.startswith("Warning: ")]
    assert any("TELEGRAM_BOT_TOKEN is empty" in line for line in warnings)
    assert any("home page rather than a petition" in line for line in warnings)
    assert any("ORGANISER_IDS is empty" in line for line in warnings)
    assert not any("ended on" in line for line in warnings)  # the campaign is still ahead


@pytest.mark.parametrize("command", ["check", "run", "try"])
def test_a_catalog_an_organiser_broke_is_named_and_nothing_starts(
    environment, tmp_path, capsys, command
):
    """`check` names the file and the message; `run` and `try` refuse to start with the same
    line rather than fail each time a supporter reaches that message."""
    environment.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    environment.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:9/bot")  # never reached
    locales = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES, locales)
    petition = locales / "pt" / "petition.toml"
    petition.write_text(
        petition.read_text(encoding="utf-8").replace("Abrir a petição", "Abrir a {petição}"),
        encoding="utf-8",
    )
    environment.setattr(i18n, "LOCALES", locales)

    assert main([command]) == EXIT_CONFIG
    assert f"{petition}: petition.open_button: placeholders ['petição']" in capsys.readouterr().err
    assert not (tmp_path / "stepup.db").exists()


def test_check_warns_about_a_campaign_that_has_ended():
    settings = make_settings(Path("unused"))
    campaign = load_campaign(settings.campaign_file)
    last_day = launch_warnings(settings, campaign, campaign.end_date)
    day_after = launch_warnings(settings, campaign, campaign.end_date + dt.timedelta(days=1))
    [ended] = [warning for warning in day_after if warning not in last_day]
    assert f"ended on {campaign.end_date}: no daily prompt will be sent" in ended


def test_check_warns_about_x_and_bluesky_accounts_set_up_half_way():
    campaign = load_campaign(make_settings(Path("unused")).campaign_file)
    today = campaign.start_date

    def warnings(**accounts: str) -> list[str]:
        return launch_warnings(make_settings(Path("unused"), **accounts), campaign, today)

    baseline = warnings()
    assert warnings(x_api_key="k", x_access_token="t") == [
        *baseline,
        "X_API_SECRET, X_ACCESS_TOKEN_SECRET empty: the daily prompt is posted to X only when "
        "all four X account keys are set.",
    ]
    every_key = {"x_api_key": "k", "x_api_secret": "s", "x_access_token": "t"}
    assert warnings(**every_key, x_access_token_secret="ts") == baseline
    [bluesky] = [line for line in warnings(bluesky_handle="us.bsky.social") if line not in baseline]
    assert "both BLUESKY_HANDLE and BLUESKY_APP_PASSWORD" in bluesky
    assert warnings(bluesky_handle="us.bsky.social", bluesky_app_password="a-b-c-d") == baseline


def test_backup_onto_the_database_itself_is_refused_in_one_line(environment, tmp_path, capsys):
    Storage.open(tmp_path / "stepup.db").close()
    assert main(["backup", "stepup.db"]) == EXIT_CONFIG
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        "Could not write the backup stepup.db: stepup.db is the database itself; "
        "give another file or a folder."
    )


def test_backup_keep_rotates_the_regular_backups(environment, tmp_path, capsys):
    Storage.open(tmp_path / "stepup.db").close()
    start = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    for night in range(4):
        with time_machine.travel(start + dt.timedelta(days=night), tick=False):
            assert main(["backup", "--keep", "3"]) == 0
    kept = sorted(path.name for path in (tmp_path / "backups").iterdir())
    assert kept == [
        "stepup-20261202-020000.db",
        "stepup-20261203-020000.db",
        "stepup-20261204-020000.db",
    ]
    assert "Deleted the older backup" in capsys.readouterr().out
    assert all((tmp_path / "backups" / name).stat().st_mode & 0o777 == 0o600 for name in kept)


def test_backup_into_a_folder_takes_the_usual_name_and_a_failure_is_one_line(
    environment, tmp_path, capsys
):
    Storage.open(tmp_path / "stepup.db").close()
    safe = tmp_path / "safe"
    safe.mkdir()
    with time_machine.travel(dt.datetime(2026, 12, 5, 2, 30, tzinfo=dt.UTC), tick=False):
        assert main(["backup", str(safe)]) == 0
    assert [path.name for path in safe.iterdir()] == ["stepup-20261205-023000.db"]
    impossible = tmp_path / "stepup.db" / "copy.db"  # inside a file
    assert main(["backup", str(impossible)]) == EXIT_CONFIG
    said = capsys.readouterr().err
    assert said.startswith(f"Could not write the backup {impossible}: ")
    assert said.count("\n") == 1 and "Traceback" not in said
    assert sorted(path.name for path in tmp_path.iterdir()) == ["safe", "stepup.db"]


@pytest.mark.parametrize(
    ("typed", "folder"),
    [
        ("sfae/copy.db", "sfae"),
        ("safe/nightly/copy.db", "safe/nightly"),
        ("stepup.db/copy.db", "stepup.db"),
        # An unmounted disk, say: written as a file named "usb" beside it, it looked backed up.
        ("usb/", "usb"),
        ("safe/nightly/", "safe/nightly"),
    ],
)
def test_backup_into_a_folder_that_does_not_exist_is_refused_and_makes_none(
    environment, tmp_path, capsys, typed, folder
):
    """A typo in the destination's folder made a new folder tree, silently filled each night."""
    Storage.open(tmp_path / "stepup.db").close()
    (tmp_path / "safe").mkdir()
    assert main(["backup", typed]) == EXIT_CONFIG
    said = capsys.readouterr().err
    assert said == (
        f"Could not write the backup {typed}: there is no folder {folder}. "
        "Create it first, or give a folder that exists.\n"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["safe", "stepup.db"]
    assert list((tmp_path / "safe").iterdir()) == []


def test_backup_without_a_destination_makes_the_usual_folder(environment, tmp_path):
    Storage.open(tmp_path / "stepup.db").close()
    assert main(["backup"]) == 0
    assert len(list((tmp_path / "backups").glob("stepup-*.db"))) == 1


async def test_start_and_stop_each_say_what_happened_in_one_log_line(tmp_path):
    for stop_signal, said in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C (SIGINT)")):
        log = tmp_path / f"{said}.log"
        async with FakeBotApi() as api:
            bot = await start_bot_process(
                api.base_url, tmp_path / "bot.db", log, ORGANISER_IDS="5,6"
            )
            for _ in range(600):
                if "Starting @" in log.read_text() or bot.returncode is not None:
                    break
                await asyncio.sleep(0.05)
            bot.send_signal(stop_signal)
            # A safety net: the 5 s of D11 is a benchmark figure (README), not a timed assertion.
            await asyncio.wait_for(bot.wait(), timeout=60)
        lines = log.read_text().splitlines()
        [started] = [line for line in lines if "Starting @" in line]
        assert f"Starting @StepUpBot (stepup-bot {version('stepup-bot')}): long polling" in started
        assert "2 organisers, campaign Step Up Migrant Women 2026-11-25 to 2026-12-10" in started
        assert f"database {tmp_path / 'bot.db'}" in started
        assert lines[-1].endswith(f"Stopped: {said}.")
        assert bot.returncode == 0


# --- SIGTERM mid-conversation (D11, S3) ----------------------------------------------------------

SUPPORTER = 501


def buttons_shown(api: FakeBotApi, user_id: int) -> list[str]:
    """The callback data of the buttons on the latest message the bot sent or edited for them."""
    markup = api.last_messages.get(user_id, {}).get("reply_markup") or {}
    return [
        button.get("callback_data") for row in markup.get("inline_keyboard", []) for button in row
    ]


def texts_to(api: FakeBotApi, user_id: int) -> list[str]:
    return [request.params.get("text", "") for request in api.sends(user_id)]


async def answered(bot, log: Path, what: str, condition: Callable[[], bool]) -> None:
    """Until `condition()` holds. The limit is a safety net for a loaded machine, not a timing."""
    for _ in range(1200):
        if condition():
            return
        if bot.returncode is not None:
            pytest.fail(f"the bot exited ({bot.returncode}) before {what}:\n{log.read_text()}")
        await asyncio.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}:\n{log.read_text()[-3000:]}")


async def started(bot, log: Path) -> None:
    """Until this start's 'Starting @...' line is in the log (earlier starts' are counted)."""
    before = log.read_text().count("Starting @") if log.exists() else 0
    await answered(bot, log, "the start", lambda: log.read_text().count("Starting @") > before)


async def test_sigterm_mid_letter_exits_cleanly_and_the_letter_carries_on_after_the_restart(
    tmp_path,
):
    """The real `stepup-bot run`, as systemd or Docker stop it: a supporter has found their MP
    by postcode and is asked how to sign the letter when SIGTERM arrives. The process exits by
    itself with status 0; after the restart their next message is the answer to that question,
    the letter has what they gave before and after, and nothing is answered twice."""
    database, log = tmp_path / "bot.db", tmp_path / "bot.log"
    async with FakeBotApi() as api, Lookups() as lookups:
        services = {"POSTCODES_API_URL": lookups.url, "MEMBERS_API_URL": lookups.url}
        bot = await start_bot_process(api.base_url, database, log, **services)
        await started(bot, log)
        api.send_text(SUPPORTER, "/start")
        await answered(
            bot, log, "/start", lambda: consent.OPTIN_NONE in buttons_shown(api, SUPPORTER)
        )
        api.press(SUPPORTER, consent.OPTIN_NONE)
        await answered(
            bot, log, "the choice", lambda: consent.OPTIN_NONE not in buttons_shown(api, SUPPORTER)
        )
        api.send_text(SUPPORTER, "/start mp")
        await answered(bot, log, "/start mp", lambda: mp.FIND in buttons_shown(api, SUPPORTER))
        api.press(SUPPORTER, mp.FIND)
        await answered(bot, log, "Find my MP", lambda: "postcode" in texts_to(api, SUPPORTER)[-1])
        api.send_text(SUPPORTER, "SW1A 1AA")
        await answered(
            bot, log, "the postcode", lambda: mp.SKIP_NAME in buttons_shown(api, SUPPORTER)
        )
        before_the_stop = texts_to(api, SUPPORTER)
        assert "Alex Sample" in "\n".join(before_the_stop)

        bot.terminate()
        # A safety net: the 5 s of D11 is a benchmark figure (README), not a timed assertion.
        await asyncio.wait_for(bot.wait(), timeout=60)
        assert bot.returncode == 0
        assert log.read_text().splitlines()[-1].endswith("Stopped: SIGTERM.")

        bot = await start_bot_process(api.base_url, database, log, **services)
        try:
            await started(bot, log)
            api.send_text(SUPPORTER, "Ana")
            await answered(
                bot, log, "the name", lambda: mp.SKIP_SENTENCE in buttons_shown(api, SUPPORTER)
            )
            api.press(SUPPORTER, mp.SKIP_SENTENCE)
            await answered(bot, log, "the letter", lambda: mp.SENT in buttons_shown(api, SUPPORTER))
        finally:
            bot.terminate()
            await asyncio.wait_for(bot.wait(), timeout=60)
    after_the_restart = texts_to(api, SUPPORTER)[len(before_the_stop) :]
    assert not set(after_the_restart) & set(before_the_stop)  # nothing answered again
    [sentence_asked, *letter] = after_the_restart
    assert "one sentence in your own words" in sentence_asked
    letter_text = "\n".join(letter)
    assert "Alex Sample" in letter_text and "Ana" in letter_text
    assert bot.returncode == 0


async def test_sigterm_while_telegram_hangs_at_start_up_stops_without_waiting_for_it(tmp_path):
    """D11 at start-up: Telegram takes the bot's command menu and never answers. SIGTERM ends
    the wait at once: the bot asks Telegram nothing more (the other menus, its profile, updates)
    and exits by itself with status 0, leaving the menus to the next start."""
    log = tmp_path / "bot.log"
    async with FakeBotApi() as api:
        api.hanging = {"setMyCommands"}
        bot = await start_bot_process(api.base_url, tmp_path / "bot.db", log)
        await answered(bot, log, "the command menu", lambda: api.hung["setMyCommands"] > 0)
        bot.send_signal(signal.SIGTERM)
        # A safety net: the 5 s of D11 is a benchmark figure (README), not a timed assertion.
        await asyncio.wait_for(bot.wait(), timeout=60)
    assert api.hung == {"setMyCommands": 1}
    assert [request.method for request in api.requests] == ["getMe", "getMe"]
    assert "left for the next start" in log.read_text()
    assert log.read_text().splitlines()[-1].endswith("Stopped: SIGTERM.")
    assert bot.returncode == 0


async def test_sigterm_while_another_program_holds_the_database_lock_still_stops_cleanly(
    tmp_path,
):
    """An operator's sqlite3 shell holds the write lock when the bot is stopped: the stop
    still ends with its one line and status 0, not a traceback."""
    database, log = tmp_path / "bot.db", tmp_path / "bot.log"
    async with FakeBotApi() as api:
        bot = await start_bot_process(api.base_url, database, log)
        await started(bot, log)
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            bot.terminate()
            # A safety net: the 5 s of D11 is a benchmark figure (README), not a timed assertion.
            await asyncio.wait_for(bot.wait(), timeout=60)
        finally:
            holder.close()
    assert "Traceback" not in log.read_text()
    assert log.read_text().splitlines()[-1].endswith("Stopped: SIGTERM.")
    assert bot.returncode == 0


@pytest.mark.parametrize("revoked_at", ["getUpdates", "deleteWebhook"])
async def test_a_token_revoked_while_the_bot_runs_stops_it_saying_so(tmp_path, revoked_at):
    """An organiser revokes the token with @BotFather while the bot runs, or just as it starts
    taking updates: rather than run on, deaf, with a fresh heartbeat, the bot stops with the
    line that says what to do, and a status that tells systemd or Docker it failed."""
    log = tmp_path / "bot.log"
    async with FakeBotApi() as api:
        api.revoke_token_at = revoked_at
        bot = await start_bot_process(api.base_url, tmp_path / "bot.db", log)
        # A safety net: it stops by itself, or never.
        await asyncio.wait_for(bot.wait(), timeout=60)
    # The log line and the one for the operator go by different streams: in either order.
    said = log.read_text()
    assert "Stopped: Telegram no longer accepts the token (was it revoked with" in said
    assert "Setting TELEGRAM_BOT_TOKEN: Telegram rejected this token." in said
    assert bot.returncode == EXIT_CONFIG


async def test_sigterm_while_telegram_hangs_on_a_reply_does_not_wait_for_an_apology(tmp_path):
    """D11: Telegram takes a reply and never answers; SIGTERM arrives meanwhile. The reply
    times out, and the bot stops without sending the apology, which would only wait as long
    again."""
    log = tmp_path / "bot.log"
    async with FakeBotApi() as api:
        bot = await start_bot_process(api.base_url, tmp_path / "bot.db", log)
        await started(bot, log)
        api.hanging = {"sendMessage"}
        api.send_text(SUPPORTER, "/start")
        await answered(bot, log, "the reply", lambda: api.hung["sendMessage"] > 0)
        bot.terminate()
        # A safety net: the 5 s of D11 is a benchmark figure (README), not a timed assertion.
        await asyncio.wait_for(bot.wait(), timeout=60)
    assert api.hung == {"sendMessage": 1}  # no apology tried
    assert log.read_text().splitlines()[-1].endswith("Stopped: SIGTERM.")
    assert bot.returncode == 0


async def test_a_webhook_port_another_program_holds_stops_start_up_with_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        log = tmp_path / "bot.log"
        async with FakeBotApi() as api:
            bot = await start_bot_process(
                api.base_url,
                tmp_path / "bot.db",
                log,
                WEBHOOK_URL="https://bot.example.org/telegram",
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_LISTEN="127.0.0.1",
                WEBHOOK_PORT=str(port),  # someone else listens there
            )
            await asyncio.wait_for(bot.wait(), timeout=60)
    assert bot.returncode == EXIT_CONFIG
    (line,) = log.read_text().splitlines()
    assert line.startswith(f"Setting WEBHOOK_PORT: port {port} on 127.0.0.1 is already in use")
    assert "set WEBHOOK_PORT to a free port" in line
    assert not (tmp_path / "bot.db").exists()  # nothing started


def webhook_settings(**listen: object) -> Settings:
    return make_settings(
        Path("unused"),
        webhook_url="https://bot.example.org/telegram",
        webhook_secret=SECRET,
        **listen,
    )


def test_a_webhook_address_this_machine_does_not_have_is_named_in_one_line():
    settings = webhook_settings(webhook_listen="192.0.2.1", webhook_port=free_port())  # TEST-NET
    with pytest.raises(webhook.PortUnavailable) as refused:
        webhook.listen(settings)
    assert str(refused.value) == (
        "Setting WEBHOOK_LISTEN: 192.0.2.1 is not an address of this machine. Set it to one "
        "of its addresses, or 0.0.0.0 for all of them, then start again."
    )


def test_a_webhook_port_below_1024_for_a_user_who_may_not_take_it_says_so():
    if int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text()) <= 88:
        pytest.skip("this machine lets every user listen on low ports")
    settings = webhook_settings(webhook_listen="127.0.0.1", webhook_port=88)

    def take_it() -> str:
        try:
            webhook.listen(settings)
        except webhook.PortUnavailable as error:
            return str(error)
        return "listening"

    said = as_another_user(take_it)
    assert said.startswith("Setting WEBHOOK_PORT: this user may not listen on port 88 ")
    assert "Set WEBHOOK_PORT to 1024 or above" in said


def test_a_settings_file_the_bot_user_may_not_read_is_one_line():
    if os.geteuid() != 0:
        pytest.skip("needs root, to write a file another user may not read")
    folder = Path(tempfile.mkdtemp())  # not under tmp_path: 'nobody' must be able to reach it
    try:
        folder.chmod(0o777)
        (folder / ".env").write_text("ORGANISER_IDS=5\n")
        (folder / ".env").chmod(0o600)  # written by root; the bot runs as another user

        def check_from_there() -> str:
            os.chdir(folder)
            error = io.StringIO()
            with contextlib.redirect_stderr(error):
                status = main(["check"])
            return f"{status} {error.getvalue()}"

        said = as_another_user(check_from_there)
    finally:
        shutil.rmtree(folder)
    assert said == (
        f"{EXIT_CONFIG} Settings file .env: cannot read it (Permission denied). Make it "
        "readable by the user running the bot (e.g. chown it to that user), then start again.\n"
    )


# --- an unusable database (X7) ----------------------------------------------------------------


def start_with_database(database: Path, cwd: Path) -> subprocess.CompletedProcess:
    """`stepup-bot run` with DATABASE_PATH at `database`; the token is never checked with
    Telegram, since the database is looked at first."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "TELEGRAM_BOT_TOKEN": "1:x", "DATABASE_PATH": str(database)},
    )


def assert_one_line_naming_the_setting(result: subprocess.CompletedProcess, database: Path):
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Setting DATABASE_PATH: cannot use {database} as the database (")


@pytest.mark.parametrize(
    "kind", ["folder is a file", "no such folder", "a folder", "not a database"]
)
def test_an_unusable_database_stops_start_up_with_one_line(tmp_path, kind):
    if kind == "no such folder":  # a typo in the path, or a volume not mounted
        database = tmp_path / "no" / "such" / "folder" / "stepup.db"
    elif kind == "folder is a file":
        (tmp_path / "data").write_text("not a folder")
        database = tmp_path / "data" / "stepup.db"
    elif kind == "a folder":
        database = tmp_path / "stepup.db"
        database.mkdir()
    else:
        database = tmp_path / "stepup.db"
        database.write_bytes(b"Not SQLite: a spreadsheet saved under the wrong name. " * 100)
    result = start_with_database(database, tmp_path)
    assert_one_line_naming_the_setting(result, database)
    assert not (tmp_path / "no").exists()  # nothing created on the way
    if kind == "no such folder":
        assert f"(there is no folder {database.parent})" in result.stderr


async def test_a_database_another_program_holds_locked_is_named_in_one_line(tmp_path):
    """An operator's sqlite3 shell left in the middle of a transaction: start-up says so in one
    line, not that the file's permissions are wrong, and stops."""
    database, log = tmp_path / "stepup.db", tmp_path / "bot.log"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("CREATE TABLE notes (line TEXT)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        async with FakeBotApi() as api:
            bot = await start_bot_process(api.base_url, database, log)
            await asyncio.wait_for(bot.wait(), timeout=60)
    finally:
        holder.close()
    assert bot.returncode == 2 and "Traceback" not in log.read_text()
    (line,) = log.read_text().strip().splitlines()
    assert line.startswith(f"Setting DATABASE_PATH: cannot use {database} as the database: ")
    assert "another program is using it" in line and "Close that program" in line


def as_another_user(check: Callable[[], str]) -> str:
    """`check()` run by a user who does not own the files it looks at. Root may write any
    file, so as root it runs in a child process that has become 'nobody'."""
    if os.geteuid() != 0:
        return check()
    readable, writable = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(writable, check().encode())
        finally:
            os._exit(0)
    os.close(writable)
    with os.fdopen(readable) as answer:
        said = answer.read()
    os.waitpid(child, 0)
    return said


def test_a_database_restored_by_another_user_is_refused_saying_why():
    folder = Path(tempfile.mkdtemp())  # not under tmp_path: 'nobody' must be able to reach it
    try:
        folder.chmod(0o777)  # the bot's own folder: it may create files there
        database = folder / "stepup.db"
        Storage.open(database).close()
        database.chmod(0o644)  # restored as another user: readable, not writable

        def open_it() -> str:
            try:
                Storage.open(database).close()
            except DatabaseUnusable as error:
                return str(error)
            return "opened"

        said = as_another_user(open_it)
    finally:
        shutil.rmtree(folder)
    assert said.startswith(f"cannot use {database} as the database (")
    assert "read and write" in said


@pytest.mark.parametrize("command", [["stats"], ["backup"]])
def test_a_command_before_the_first_start_says_where_it_looked_and_what_to_do(
    environment, tmp_path, capsys, command
):
    """Run from another folder, or before `make run`, "stepup.db does not exist" left an
    organiser guessing; the line names the full path and how the database comes to be."""
    environment.setenv("DATABASE_PATH", "stepup.db")

    assert main(command) == EXIT_CONFIG

    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"Setting DATABASE_PATH: no database at {tmp_path / 'stepup.db'} yet.")
    assert "when it first starts (`make run`)" in line
    assert not (tmp_path / "stepup.db").exists()
