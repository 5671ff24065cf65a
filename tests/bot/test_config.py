from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings
from tests.support.bot_api import FakeBotApi


def run_cli(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_match_the_settings_contract(monkeypatch):
    for name in (
        "TELEGRAM_BASE_URL",
        "POSTCODES_API_URL",
        "MEMBERS_API_URL",
        "TZ",
        "ORGANISER_IDS",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.telegram_base_url == "https://api.telegram.org/bot"
    assert str(settings.postcodes_api_url) == "https://api.postcodes.io/"
    assert str(settings.members_api_url) == "https://members-api.parliament.uk/"
    assert settings.tz == "Europe/London"
    assert settings.organiser_ids == frozenset()
    assert not settings.is_organiser(12345)


def test_organiser_ids_are_comma_separated_numbers(monkeypatch):
    monkeypatch.setenv("ORGANISER_IDS", " 111, 222 ,")
    assert load_settings(_env_file=None).organiser_ids == {111, 222}


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("ORGANISER_IDS", "111,bob", "ORGANISER_IDS"),
        ("ORGANISER_IDS", "111,-1001234567890", "ORGANISER_IDS"),  # a group's id
        ("TZ", "Mars/Olympus", "TZ"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("POSTCODES_API_URL", "not a url", "POSTCODES_API_URL"),
        ("BROADCAST_RATE", "-3", "BROADCAST_RATE"),
    ],
)
def test_malformed_setting_is_named_in_one_line(monkeypatch, name, value, named):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None)
    message = str(error.value)
    assert named in message
    assert "\n" not in message


def test_a_rate_above_telegrams_free_limit_needs_paid_broadcasts(monkeypatch):
    monkeypatch.setenv("BROADCAST_RATE", "100")
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None)
    assert "BROADCAST_RATE" in str(error.value)
    assert "PAID_BROADCASTS=true" in str(error.value)
    monkeypatch.setenv("PAID_BROADCASTS", "true")
    assert load_settings(_env_file=None).broadcast_rate == 100


def test_webhook_requires_a_secret(monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/telegram")
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        load_settings(_env_file=None)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_URL", "https://bot.example.org/telegram"),
        ("WEBHOOK_URL", "https://bot.example.org:8443/telegram"),
        ("WEBHOOK_URL", "https://203.0.113.7:88/"),
        ("CHANNEL_ID", "@StepUp_Migrant_Women"),
        ("CHANNEL_ID", "-1001234567890"),
        ("TELEGRAM_BASE_URL", "http://localhost:8081/bot"),
    ],
)
def test_every_shape_telegram_accepts_is_accepted(monkeypatch, name, value):
    monkeypatch.setenv("WEBHOOK_SECRET", "A-long_random-string-42")
    monkeypatch.setenv(name, value)
    assert str(getattr(load_settings(_env_file=None), name.lower())) == value


def test_run_without_token_explains_botfather_and_make_try(tmp_path):
    result = run_cli("run", env={}, cwd=tmp_path)
    assert result.returncode != 0
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "@BotFather" in result.stderr
    assert "make try" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_organiser_ids_stop_start_up_without_traceback(tmp_path):
    result = run_cli("run", env={"TELEGRAM_BOT_TOKEN": "1:x", "ORGANISER_IDS": "me"}, cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "ORGANISER_IDS" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_campaign_file_stops_start_up_naming_file_and_field(tmp_path):
    broken = tmp_path / "campaign.toml"
    broken.write_text('start_date = 2026-11-25\n[name]\nen = "x"\n', encoding="utf-8")
    result = run_cli(
        "run", env={"TELEGRAM_BOT_TOKEN": "1:x", "CAMPAIGN_FILE": str(broken)}, cwd=tmp_path
    )
    assert result.returncode != 0
    assert str(broken) in result.stderr
    assert "field" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("DATABASE_PATH", "."),  # a folder
        ("DATABASE_PATH", "no-such-folder/stepup.db"),
        ("TELEGRAM_BOT_TOKEN", "abcSecret42"),  # not digits:secret
        ("PAID_BROADCASTS", "yes"),
        ("TELEGRAM_BASE_URL", "api.telegram.org/bot"),  # no https://
        ("WEBHOOK_URL", "http://bot.example.org/telegram"),  # Telegram wants https
        ("WEBHOOK_URL", "https://bot.example.org:8080/telegram"),  # nor this port
        ("WEBHOOK_SECRET", "has spaces and abcSecret42!"),
        ("CHANNEL_ID", "stepupchannel"),  # no @
        ("CAMPAIGN_FILE", "."),  # a folder
    ],
)
@pytest.mark.parametrize("command", ["check", "run"])
def test_check_refuses_what_run_refuses_in_one_line(tmp_path, command, setting, value):
    env = {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot"}
    result = run_cli(command, env=env | {setting: value}, cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and setting in result.stderr
    assert "Traceback" not in result.stderr and "abcSecret42" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_check_accepts_a_database_that_run_would_create(tmp_path):
    result = run_cli("check", env={"DATABASE_PATH": str(tmp_path / "new.db")}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []  # check creates nothing


def test_env_example_documents_every_setting_with_a_comment():
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text(encoding="utf-8")
    lines = example.splitlines()
    settings = [line for line in lines if line and not line.startswith("#")]
    assert {line.split("=", 1)[0] for line in settings} == {
        name.upper() for name in Settings.model_fields
    }
    # Each setting, or the group of settings it belongs to, is explained by a comment above.
    for index, line in enumerate(lines):
        if line in settings:
            explained_by = next(above for above in reversed(lines[:index]) if above not in settings)
            assert explained_by.startswith("#"), line


def test_a_copied_env_example_switches_nothing_on(monkeypatch):
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    copied = Settings(_env_file=Path(__file__).parent.parent / ".env.example")
    assert copied == Settings(_env_file=None)
    assert copied.telegram_bot_token is None and copied.organiser_ids == frozenset()
    assert not (copied.channel_id or copied.x_bearer_token or copied.x_can_post)
    assert not (copied.bluesky_enabled or copied.webhook_url)


def test_unreachable_telegram_stops_start_up_in_one_line(tmp_path):
    env = {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot"}
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "TELEGRAM_BASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert "1:x" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no new database left behind by a failed start


async def test_a_token_telegram_rejects_stops_start_up_in_one_line(tmp_path):
    async with FakeBotApi() as api:
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env={
                "PATH": "/usr/bin:/bin",
                "TELEGRAM_BOT_TOKEN": "1:revoked",
                "TELEGRAM_BASE_URL": api.base_url,
                "DATABASE_PATH": str(tmp_path / "bot.db"),
            },
            cwd=tmp_path,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(bot.communicate(), timeout=60)
    assert bot.returncode != 0
    assert "Telegram rejected this token" in stderr.decode()
    assert "Traceback" not in stderr.decode()
