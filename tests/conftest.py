"""Fixtures every test may use: settings and a running bot over the offline Bot API, a fresh
database, the shipped campaign, and a stopped clock."""

from __future__ import annotations

import pytest
import time_machine
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from bot.campaign import Campaign, load_campaign
from bot.config import DEFAULT_CAMPAIGN_FILE
from bot.stats import CampaignStats, gather_stats
from bot.storage import Storage
from tests.support import figures
from tests.support.fakes import FileKeepingAPI
from tests.support.harness import make_settings, running_bot

# CI runs on two shared cores: a property is judged by what it finds, never by how fast the
# machine happened to be, so no per-example deadline and no "too slow" health check.
hypothesis_settings.register_profile(
    "shared-cores", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("shared-cores")


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture
def api():
    """The offline Bot API, also keeping the files the bot uploads. Every test that uses it
    also checks that each text the bot sent is Telegram HTML without a link preview."""
    api = FileKeepingAPI()
    yield api
    assert not api.unformatted(), "sent without parse_mode HTML or with a link preview"


@pytest.fixture
async def chat(settings, api):
    async with running_bot(settings, api) as chat:
        yield chat


@pytest.fixture
def storage(tmp_path):
    """A fresh database with every migration applied (not the running bot's: see `chat`)."""
    storage = Storage.open(tmp_path / "storage.db")
    yield storage
    storage.close()


@pytest.fixture(scope="session")
def campaign() -> Campaign:
    """The shipped campaign file (25 November to 10 December 2026); immutable, so shared."""
    return load_campaign(DEFAULT_CAMPAIGN_FILE)


@pytest.fixture
def clock(request):
    """Time stands still at the test module's NOW; tests move it with `clock.move_to(...)`."""
    with time_machine.travel(request.module.NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def campaign_db(storage):
    """`storage` holding the small campaign of tests/support/figures.py."""
    return figures.small_campaign(storage)


@pytest.fixture
def stats(campaign_db, campaign) -> CampaignStats:
    """The organisers' figures for that small campaign, on its day 3."""
    return gather_stats(campaign_db, campaign, figures.NOW)
