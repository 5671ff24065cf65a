"""The bot starts without paying for libraries only some features use (matplotlib for charts,
fpdf2 for printable cards, tweepy and atproto for X and Bluesky): each is imported when first
needed, so start-up stays within bench/bench_startup.py's targets. (aiohttp is not among them:
it is the bot's connection to Telegram, bot/app/request.py.)"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("matplotlib", "fpdf", "tweepy", "atproto")


def modules_after(code: str) -> set[str]:
    """The heavy libraries imported by a fresh interpreter after running `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return set(result.stdout.split())


def test_building_the_bot_imports_no_chart_pdf_or_social_library():
    built = modules_after(
        "from bot.app.build import build_application\n"
        "from bot.config import Settings\n"
        "build_application(Settings(_env_file=None, database_path='unused.db'))"
    )
    assert built == set()


def test_a_chart_imports_matplotlib_when_it_is_drawn():
    drawn = modules_after(
        "import datetime as dt\nfrom bot.charts import volume_chart\nfrom messages.core import "
        "chart_words\nvolume_chart({}, (dt.date.today(),) * 2, chart_words('en', 'stats'))"
    )
    assert "matplotlib" in drawn
