"""The container files, read as Docker and Compose read them (no container engine runs in the
test suite): the image installs exactly the lock, runs unprivileged, keeps its data in the
volume Compose mounts, and Compose restarts the bot and checks its health."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

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


def bot_service() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["bot"]


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
    mounts = [mount.split(":") for mount in service["volumes"]]
    assert [target for _, target in mounts] == [volume]
    database = Path(service["environment"]["DATABASE_PATH"])
    assert database.parent == Path(volume)
    assert arguments("CMD") == ['["stepup-bot", "run"]']


def test_compose_restarts_the_bot_reads_env_and_checks_its_heartbeat():
    service = bot_service()
    assert service["restart"] in {"always", "unless-stopped"}
    assert service["env_file"] == ".env"
    assert service["healthcheck"]["test"] == ["CMD", "stepup-bot", "health"]
    named_volume = service["volumes"][0].split(":")[0]
    assert named_volume in yaml.safe_load((ROOT / "compose.yaml").read_text())["volumes"]


def test_settings_databases_and_backups_stay_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored  # everything is left out unless named
    allowed = [line[1:] for line in ignored if line.startswith("!")]
    assert not any(name.startswith((".env", "backups")) or name.endswith(".db") for name in allowed)
