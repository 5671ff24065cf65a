"""The Makefile as `make` runs it: `make run` and `make test` leave in .venv exactly what the lock
lists, so a reinstall after a lock change (a dependency dropped, a package installed by hand)
leaves nothing stale behind (S5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKE_TIMEOUT = 300  # a safety net for a loaded machine, not a timing


def make(*arguments: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), *arguments],
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT,
        cwd=cwd,
        check=True,
    )
    return result.stdout


def install_by_hand(venv: Path, name: str) -> Path:
    """A package as pip leaves it installed (its module and its .dist-info, with the RECORD pip
    uninstalls by), without a network or a build; returns its module."""
    [site] = venv.glob("lib/python*/site-packages")
    module = site / f"{name}.py"
    module.write_text("VERSION = '1.0'\n")
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "INSTALLER").write_text("pip\n")
    record = [f"{name}.py,,", *(f"{info.name}/{file},," for file in ("METADATA", "INSTALLER"))]
    (info / "RECORD").write_text("\n".join([*record, f"{info.name}/RECORD,,"]) + "\n")
    return module


def installed(venv: Path) -> set[str]:
    listing = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT,
        check=True,
    )
    return {line.split("==")[0].lower() for line in listing.stdout.splitlines()}


def test_a_package_the_lock_no_longer_lists_is_uninstalled_and_the_rest_kept(tmp_path):
    venv = tmp_path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=MAKE_TIMEOUT)
    stale = install_by_hand(venv, "dropped_since")  # the lock listed it once
    install_by_hand(venv, "still_locked")
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        # Only names count: the venv's own pip and setuptools stay whatever their versions.
        "pip==1.0 \\\n    --hash=sha256:0\nsetuptools==1.0 \\\n    --hash=sha256:1\n"
        "Still.Locked==1.0 \\\n    --hash=sha256:2\n"  # as PyPI compares names: still_locked
    )
    make(f"VENV={venv}", "--eval", f"exactly: ; $(call remove_unlisted,{lock})", "exactly")
    assert installed(venv) == {"pip", "setuptools", "still_locked"}
    assert not stale.exists()


def test_every_install_removes_what_its_lock_does_not_list():
    """`make run` installs requirements.lock, `make test` requirements-dev.lock: each then
    removes what it does not list, before installing the bot itself."""
    for target, lock in (
        (".venv/.installed", "requirements.lock"),
        (".venv/.installed-test", "requirements-dev.lock"),
    ):
        steps = make("--dry-run", f"--what-if={lock}", target).splitlines()
        installing = steps.index(
            f".venv/bin/python -m pip install --quiet --require-hashes -r {lock}"
        )
        removing = next(
            index for index, step in enumerate(steps) if "pip uninstall --quiet --yes" in step
        )
        assert installing < removing
        assert f'" {lock})"; if' in steps[removing]  # what this lock does not list
