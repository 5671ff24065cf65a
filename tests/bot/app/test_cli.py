"""Run modes: webhook with a required secret (X2), and the offline console (`make try`)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import httpx

from bot.app.cli import sync_mps, webhook_options
from bot.app.offline import UpdateFactory
from bot.storage import Storage
from tests.support.harness import make_settings, running_bot
from tests.support.parliament import ConcurrencyProbe, client, sync_transport

SECRET = "s3cret-token_for-webhook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_webhook_refuses_requests_without_the_secret_token(tmp_path):
    settings = make_settings(
        tmp_path,
        webhook_url="https://bot.example.org/telegram",
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=free_port(),
    )
    async with running_bot(settings) as chat:
        app = chat.app
        await app.start()
        await app.updater.start_webhook(**webhook_options(settings))
        update = UpdateFactory(app.bot).message(1, "/start").to_dict()
        url = f"http://127.0.0.1:{settings.webhook_port}/telegram"
        try:
            async with httpx.AsyncClient() as client:
                refused = await client.post(url, json=update)
                wrong = await client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
                )
                accepted = await client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                )
            for _ in range(50):
                if chat.api.sent(1):
                    break
                await asyncio.sleep(0.05)
        finally:
            await app.updater.stop()
            await app.stop()
    assert refused.status_code == 403
    assert wrong.status_code == 403
    assert accepted.status_code == 200
    assert "Welcome" in chat.api.sent(1)[0].text
    registered = [call for call in chat.api.calls if call.method == "setWebhook"]
    assert registered[0].params["secret_token"] == SECRET


def test_try_console_chats_offline_and_presses_buttons_by_number(tmp_path):
    script = "2\n/help\n/quit\n"
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
    assert "[1] Sí, uno al día" in out  # buttons are numbered
    assert "Sin problema" in out  # "2" pressed "No, gracias"
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
    assert "2 organiser(s)" in result.stdout


async def test_backup_copies_a_live_database_consistently(tmp_path):
    settings = make_settings(tmp_path)
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
