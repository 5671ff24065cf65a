"""Write to your MP, service layer: postcodes.io and the Members API faked at the HTTP edge with
the services' documented response shapes (api.postcodes.io/docs; the Members API swagger)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from bot.campaign import DEFAULT_CAMPAIGN_FILE_NAME if False else None  # noqa: F401
