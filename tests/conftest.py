from __future__ import annotations

import pytest

from bot.app.offline import OfflineBotAPI
from tests.support.harness import make_settings, running_bot


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture
def api():
    return OfflineBotAPI()


@pytest.fixture
async def chat(settings, api):
    async with running_bot(settings, api) as chat:
        yield chat
