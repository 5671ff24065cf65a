"""Settings: the one place that reads the environment.

Everything an operator can set is a field here, documented in `.env.example`. Settings are read
once at start-up (`load_settings`) and passed down; nothing imports a global.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from telegram.constants import FloodLimit

TOKEN_SHAPE = re.compile(r"[0-9]+:\S+")
# What Telegram's setWebhook accepts: an HTTPS address on one of four ports, and a secret token
# of 1-256 letters, digits, '_' and '-'.
WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})
WEBHOOK_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
# A channel's @username (5-32 letters, digits and '_', starting with a letter) or its numeric id.
CHANNEL_SHAPE = re.compile(r"@[A-Za-z][A-Za-z0-9_]{4,31}|-100[0-9]+")
DEFAULT_CAMPAIGN_FILE = Path(__file__).parent / "campaigns" / "stepup-migrant-women.toml"
X_API_URL = "https://api.twitter.com"  # the host tweepy writes into every request
BLUESKY_API_URL = "https://bsky.social"  # where Bluesky accounts sign in (then their own server)


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line an operator can act on."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # An empty setting (`.env.example` leaves them all empty) means its default.
        env_ignore_empty=True,
    )

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    organiser_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    database_path: Path = Path("stepup.db")
    campaign_file: Path = DEFAULT_CAMPAIGN_FILE
    postcodes_api_url: AnyHttpUrl = AnyHttpUrl("https://api.postcodes.io")
    members_api_url: AnyHttpUrl = AnyHttpUrl("https://members-api.parliament.uk")
    channel_id: str | None = None
    x_bearer_token: SecretStr | None = None
    x_api_key: SecretStr | None = None
    x_api_secret: SecretStr | None = None
    x_access_token: SecretStr | None = None
    x_access_token_secret: SecretStr | None = None
    bluesky_handle: str | None = None
    bluesky_app_password: SecretStr | None = None
    # Where X's API and Bluesky's sign-in server are; only a test or a proxy changes them.
    x_api_url: AnyHttpUrl = AnyHttpUrl(X_API_URL)
    bluesky_api_url: AnyHttpUrl = AnyHttpUrl(BLUESKY_API_URL)
    webhook_url: AnyHttpUrl | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    log_level: str = "INFO"
    tz: str = "Europe/London"

    # Delivery and fairness. paid_broadcasts comes first: broadcast_rate's check reads it.
    paid_broadcasts: bool = False
    broadcast_rate: float = Field(default=25.0, gt=0, le=1000)
    user_updates_per_minute: int = Field(default=30, ge=1)
    # Organiser broadcasts one person may get in a day (local time), the daily prompt aside.
    broadcasts_per_day: int = Field(default=1, ge=0)
    # Hashtag tracking: X bills every read, so both the cadence and the daily ceiling are settings.
    tracking_poll_minutes: int = Field(default=60, ge=5)
    x_daily_request_budget: int = Field(default=48, ge=0)
    # Personal data is purged this many days after the campaign's last day.
    data_retention_days: int = Field(default=90, ge=0)

    @field_validator(
        "channel_id",
        "bluesky_handle",
        "webhook_url",
        "webhook_secret",
        "telegram_bot_token",
        "x_bearer_token",
        "x_api_key",
        "x_api_secret",
        "x_access_token",
        "x_access_token_secret",
        "bluesky_app_password",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # BotFather's tokens are the bot's number, a colon and a secret: "123456789:AAH...".
        if value is not None and not TOKEN_SHAPE.fullmatch(value.get_secret_value()):
            raise ValueError(
                "expected the token BotFather gave, digits, a colon and a secret, like "
                "123456789:AAH... (the value is not shown here)"
            )
        return value

    @field_validator("telegram_base_url")
    @classmethod
    def _http_address(cls, value: str) -> str:
        # Checked here, not first when `run` reaches Telegram, so `check` refuses it too.
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                "expected the Bot API's address, like https://api.telegram.org/bot "
                "(leave it empty for that one)"
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_telegram_accepts(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if value is not None and (value.scheme != "https" or value.port not in WEBHOOK_PORTS):
            raise ValueError(
                "Telegram sends updates only to an https:// address on port 443, 80, 88 or 8443"
            )
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_telegram_accepts(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_SHAPE.fullmatch(value.get_secret_value()):
            raise ValueError(
                "expected 1-256 characters, each a letter A-Z or a-z, a digit, _ or - "
                "(the value is not shown here)"
            )
        return value

    @field_validator("channel_id")
    @classmethod
    def _channel_shape(cls, value: str | None) -> str | None:
        if value is not None and not CHANNEL_SHAPE.fullmatch(value.strip()):
            raise ValueError(
                "expected the channel's @username, like @stepupchannel, or its numeric id, "
                "like -1001234567890"
            )
        return value if value is None else value.strip()

    @field_validator("paid_broadcasts", mode="before")
    @classmethod
    def _true_or_false(cls, value: object) -> object:
        # pydantic would also read yes/no, on/off and 1/0; one spelling leaves no doubt.
        if isinstance(value, str):
            if value.strip().lower() not in ("true", "false"):
                raise ValueError("expected true or false")
            return value.strip().lower() == "true"
        return value

    @field_validator("organiser_ids", mode="before")
    @classmethod
    def _parse_organiser_ids(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not all(part.lstrip("-").isdigit() for part in parts):
            raise ValueError("expected comma-separated numeric Telegram user ids, e.g. 12345,67890")
        # A person's id is positive; a negative one is a group's or a channel's, never an organiser.
        if any(part.startswith("-") for part in parts):
            raise ValueError(
                "a negative id is a group's or a channel's, not a person's: ask @userinfobot "
                "in a private chat for each organiser's own id"
            )
        return frozenset(int(part) for part in parts)

    @field_validator("broadcast_rate")
    @classmethod
    def _rate_telegram_allows(cls, value: float, info: ValidationInfo) -> float:
        # Without paid broadcasts Telegram answers anything above 30 a second with 429s.
        free = FloodLimit.MESSAGES_PER_SECOND
        if value > free and not info.data.get("paid_broadcasts"):
            raise ValueError(
                f"Telegram allows at most {free} messages a second; a higher rate needs "
                "PAID_BROADCASTS=true (paid in Telegram Stars)"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("tz")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("expected an IANA time zone such as Europe/London") from error
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def x_can_post(self) -> bool:
        """True when the coalition's X account can be posted to (user-context credentials)."""
        return all(
            (self.x_api_key, self.x_api_secret, self.x_access_token, self.x_access_token_secret)
        )

    @property
    def x_keys_missing(self) -> list[str]:
        """The X account keys left empty when some are set (nothing is posted to X without all
        four); [] when all or none are set."""
        keys = {
            "X_API_KEY": self.x_api_key,
            "X_API_SECRET": self.x_api_secret,
            "X_ACCESS_TOKEN": self.x_access_token,
            "X_ACCESS_TOKEN_SECRET": self.x_access_token_secret,
        }
        missing = [name for name, value in keys.items() if value is None]
        return missing if len(missing) < len(keys) else []

    @property
    def bluesky_enabled(self) -> bool:
        return bool(self.bluesky_handle and self.bluesky_app_password)

    def is_organiser(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.organiser_ids


def describe_error(error: ValidationError) -> str:
    """One line naming the first bad setting and what is expected."""
    first = error.errors()[0]
    location = [str(part) for part in first["loc"]]
    setting = location[0].upper() if location else "settings"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "is required"
    return f"Setting {setting}: {message}." if location else f"Settings: {message}."


def load_settings(**overrides: object) -> Settings:
    """Read the environment (and `.env`) once; raise ConfigError with one readable line, also
    for a `.env` this user may not read (one written by root for a bot run as another user)."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(describe_error(error)) from None
    except OSError as error:
        raise ConfigError(
            f"Settings file {error.filename}: cannot read it ({error.strerror}). Make it readable "
            "by the user running the bot (e.g. chown it to that user), then start again."
        ) from None
