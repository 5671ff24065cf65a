"""The campaign file: everything campaign-specific, in English, Portuguese and Spanish.

Organisers edit a TOML file, not Python. `load_campaign` validates it completely at start-up so a
typo stops the bot with the file, the field and the problem instead of surfacing mid-campaign.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, model_validator

# The languages supporters use the bot in; every text exists in each. The default is the one
# a person whose Telegram speaks none of them gets, and the one any missing version falls back on.
LANGUAGES = ("en", "pt", "es")
DEFAULT_LANGUAGE = "en"
Journey = Literal["petition", "mp", "solidarity", "share", "menu"]
PROFILE_LIMITS = {"name": 64, "description": 512, "short_description": 120}


class CampaignError(Exception):
    """The campaign file is unreadable or invalid; the message names file, field and problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localised(_Strict):
    """One text in each supported language."""

    en: str = Field(min_length=1)
    pt: str = Field(min_length=1)
    es: str = Field(min_length=1)

    def __call__(self, language: str) -> str:
        return getattr(self, language if language in LANGUAGES else DEFAULT_LANGUAGE)


class SupportLine(_Strict):
    """A place to get help; at least one of phone or url."""

    name: Localised
    phone: str | None = None
    hours: Localised
    url: HttpUrl | None = None


class DailyPrompt(_Strict):
    day: int = Field(ge=1)
    journey: Journey
    text: Localised


class LetterTemplate(_Strict):
    """The MP letter. Placeholders: {mp_name} {constituency} {personal_sentence} {signature}."""

    PLACEHOLDERS: ClassVar[frozenset[str]] = frozenset(
        {"mp_name", "constituency", "personal_sentence", "signature"}
    )

    subject: Localised
    body: Localised

    @model_validator(mode="after")
    def _known_placeholders(self) -> LetterTemplate:
        allowed = self.PLACEHOLDERS
        for part in ("subject", "body"):
            for language in LANGUAGES:
                used = set(re.findall(r"{(\w+)}", getattr(self, part)(language)))
                if used - allowed:
                    raise ValueError(
                        f"{part}.{language} uses unknown placeholders {sorted(used - allowed)}; "
                        f"allowed: {sorted(allowed)}"
                    )
        return self


class MeetingRequest(LetterTemplate):
    """The request to meet on a lobby day: the MP letter's placeholders and {event_date}."""

    PLACEHOLDERS: ClassVar[frozenset[str]] = LetterTemplate.PLACEHOLDERS | {"event_date"}


class Solidarity(_Strict):
    address: str
    suggested_message: Localised
    accepted_languages: Localised
    max_message_length: int = Field(default=600, ge=50, le=3000)


class BotProfile(_Strict):
    """How the bot introduces itself before anyone presses Start, per language: its name, the
    description in the empty chat and the short description on its profile and shared links.
    Telegram's limits: 64, 512 and 120 characters."""

    name: Localised
    description: Localised
    short_description: Localised

    @model_validator(mode="after")
    def _within_telegram_limits(self) -> BotProfile:
        for field, limit in PROFILE_LIMITS.items():
            for language in LANGUAGES:
                length = len(getattr(self, field)(language))
                if length > limit:
                    raise ValueError(
                        f"{field}.{language} is {length} characters; Telegram allows {limit}"
                    )
        return self


class Campaign(_Strict):
    name: Localised
    summary: Localised
    start_date: dt.date
    end_date: dt.date
    prompt_time: dt.time = dt.time(9, 0)
    hashtags: tuple[str, ...] = Field(min_length=1)
    tracked_hashtags: tuple[str, ...] = ()
    website: HttpUrl
    petition_url: HttpUrl
    petition_ask: Localised
    share_text: Localised
    writetothem_url: HttpUrl = HttpUrl("https://www.writetothem.com/")
    consent_wording_version: str = Field(min_length=1)
    mp_letter: LetterTemplate
    meeting_request: MeetingRequest
    solidarity: Solidarity
    support_lines: tuple[SupportLine, ...] = Field(min_length=1)
    daily_prompts: tuple[DailyPrompt, ...]
    # Without one, the bot keeps whatever profile was set in @BotFather.
    bot_profile: BotProfile | None = None

    @model_validator(mode="after")
    def _one_prompt_per_day(self) -> Campaign:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        days = (self.end_date - self.start_date).days + 1
        numbers = sorted(prompt.day for prompt in self.daily_prompts)
        if numbers != list(range(1, days + 1)):
            raise ValueError(
                f"daily_prompts must have exactly one prompt for each day 1..{days} "
                f"of the campaign; found days {numbers}"
            )
        return self

    @property
    def all_hashtags(self) -> tuple[str, ...]:
        """The campaign hashtags and any extra tracked ones, without duplicates, without '#'."""
        return tuple(
            dict.fromkeys(tag.lstrip("#") for tag in self.hashtags + self.tracked_hashtags)
        )

    @property
    def hashtag_line(self) -> str:
        return " ".join(f"#{tag.lstrip('#')}" for tag in self.hashtags)

    @property
    def total_days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def day_number(self, date: dt.date) -> int | None:
        """Day 1..N of the campaign for a local date, or None outside the campaign."""
        if self.start_date <= date <= self.end_date:
            return (date - self.start_date).days + 1
        return None

    def prompt_for_day(self, day: int) -> DailyPrompt:
        return next(prompt for prompt in self.daily_prompts if prompt.day == day)

    def date_of_day(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day - 1)


def _describe(path: Path, error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    return f"Campaign file {path}: field {field}: {message}."


def load_campaign(path: Path) -> Campaign:
    """The campaign file at `path`, validated. Raises CampaignError, one line naming the file
    and what is wrong (missing, a folder, unreadable, not TOML, or the first invalid field)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignError(f"Campaign file {path}: not found (set CAMPAIGN_FILE).") from None
    except IsADirectoryError:
        raise CampaignError(
            f"Campaign file {path}: is a folder; set CAMPAIGN_FILE to the .toml file in it."
        ) from None
    except PermissionError:
        raise CampaignError(
            f"Campaign file {path}: not readable by this user (e.g. `chmod a+r` it)."
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CampaignError(f"Campaign file {path}: not valid TOML: {error}.") from None
    try:
        return Campaign.model_validate(data)
    except ValidationError as error:
        raise CampaignError(_describe(path, error)) from None
