"""The container files, read as Docker and Compose read them (no container engine runs in the
test suite): the image installs exactly the lock, runs unprivileged, keeps its data in the
volume Compose mounts, and Compose restarts the bot and checks its health."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from bot.config import DEFAULT_CAMPAIGN_FILE

ROOT = Path(__file__).resolve().parents[1]


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def arguments(instruction: str) -> list[str]:
    return [args for name, args in dockerfile() if name == instruction]


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def bot_service() -> dict:
    return compose()["services"]["bot"]


def mounts() -> dict[str, tuple[str, str]]:
    """Each of the bot's mounts by its path in the container: (source, options)."""
    found = {}
    for mount in bot_service()["volumes"]:
        source, target, *options = mount.split(":")
        found[target] = (source, ",".join(options))
    return found


def test_the_image_is_slim_python_3_11_and_installs_only_the_hashed_lock():
    assert arguments("FROM") == ["python:3.11-slim"]
    installs = [args for args in arguments("RUN") if "pip install" in args]
    assert "--require-hashes -r requirements.lock" in installs[0]
    # Our own package adds no dependency of its own, and builds with the locked setuptools.
    assert all("--no-deps" in args for args in installs[1:])


def test_the_image_copies_every_package_the_project_ships():
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    copied = {args.split()[0] for args in arguments("COPY")}
    assert {package.rstrip("*") for package in packages} <= copied


def test_the_bot_runs_unprivileged_with_its_database_in_the_volume():
    [user] = arguments("USER")
    assert user not in {"root", "0"}
    [volume] = arguments("VOLUME")
    service = bot_service()
    named, _ = mounts()[volume]
    assert named in compose()["volumes"]
    database = Path(service["environment"]["DATABASE_PATH"])
    assert database.parent == Path(volume)
    assert arguments("CMD") == ['["stepup-bot", "run"]']


def test_the_campaign_file_edited_on_the_server_is_the_one_read_after_a_restart():
    """CAMPAIGN_FILE is .env's or else the shipped campaign, at the same relative path `make run`
    reads; inside the container that path lands in the server's own folder, mounted read-only,
    so an edit there is read at the next start without rebuilding the image."""
    setting = bot_service()["environment"]["CAMPAIGN_FILE"]
    chosen = re.fullmatch(r"\$\{CAMPAIGN_FILE:-(?P<default>[^}]+)\}", setting)
    assert chosen, "CAMPAIGN_FILE must come from .env when it is set there"
    default = Path(chosen["default"])
    assert not default.is_absolute()
    assert (ROOT / default).resolve() == DEFAULT_CAMPAIGN_FILE.resolve()
    workdir = Path(arguments("WORKDIR")[-1])
    inside = workdir / default  # where the bot, started in WORKDIR, opens it
    target = max(
        (Path(path) for path in mounts() if inside.is_relative_to(path)),
        key=lambda path: len(path.parts),
    )
    source, options = mounts()[str(target)]
    assert options == "ro"
    assert (ROOT / source / inside.relative_to(target)).resolve() == DEFAULT_CAMPAIGN_FILE.resolve()


def test_compose_restarts_the_bot_reads_env_and_checks_its_heartbeat():
    service = bot_service()
    assert service["restart"] in {"always", "unless-stopped"}
    assert service["env_file"] == ".env"
    assert service["healthcheck"]["test"] == ["CMD", "stepup-bot", "health"]
    [named_volume] = [source for source, _ in mounts().values() if source in compose()["volumes"]]
    assert named_volume == "stepup-data"


def test_settings_databases_and_backups_stay_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored  # everything is left out unless named
    allowed = [line[1:] for line in ignored if line.startswith("!")]
    assert not any(name.startswith((".env", "backups")) or name.endswith(".db") for name in allowed)
