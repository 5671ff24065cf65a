"""`stepup-bot`: run the bot, try it in a terminal, and organiser tools.

Start-up problems (a missing token, a malformed setting, a broken campaign file) end in one line
naming what to fix and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import logging
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import httpx
from telegram import Bot
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application
from tqdm import tqdm

import handlers
from bot import __version__, backups, health
from bot.app import logs, webhook
from bot.app.build import build_application, organisers_said
from bot.campaign import LANGUAGES, Campaign, CampaignError, load_campaign
from bot.config import ConfigError, Settings, load_settings
from bot.mps import LookupUnavailable, sync_all_mps
from bot.stats import gather_stats
from bot.storage import DatabaseUnusable, Storage, utcnow
from messages.i18n import catalog_problems
from messages.stats import format_stats_text

logger = logging.getLogger(__name__)

EXIT_CONFIG = 2
EXIT_UNHEALTHY = 1
# What stops a running bot, named in the log's last line.
STOP_SIGNALS = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "Ctrl-C (SIGINT)"}
NO_TOKEN = (
    "Setting TELEGRAM_BOT_TOKEN: is required to run the bot. Get one by talking to @BotFather in "
    "Telegram (send /newbot), put it in .env, and start again. To try the bot without a token, "
    "run `make try`."
)
BAD_TOKEN = (
    "Setting TELEGRAM_BOT_TOKEN: Telegram rejected this token. Copy it again from @BotFather "
    "(/mybots > your bot > API Token) into .env."
)

# Why the bot stopped when Telegram stops taking its token while it runs.
TOKEN_REVOKED = "Telegram no longer accepts the token (was it revoked with @BotFather?)"


class CatalogError(Exception):
    """A catalog under messages/locales would break a message: one line per problem."""


def fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_CONFIG


def secrets_of(settings: Settings) -> list[str]:
    fields = (
        settings.telegram_bot_token,
        settings.webhook_secret,
        settings.x_bearer_token,
        settings.x_api_key,
        settings.x_api_secret,
        settings.x_access_token,
        settings.x_access_token_secret,
        settings.bluesky_app_password,
    )
    return [field.get_secret_value() for field in fields if field is not None]


def checked_settings(*, need_token: bool = False, database: bool = True) -> Settings:
    """The settings, checked as `run` checks them before anything starts, for every command:
    each one's shape, the token if the command needs one, and that DATABASE_PATH can be the
    database (a mistyped folder is refused, never created), unless the command keeps a database
    of its own (`try`). Nothing is created. Raises ConfigError or DatabaseUnusable."""
    settings = load_settings()
    if need_token and settings.telegram_bot_token is None:
        raise ConfigError(NO_TOKEN)
    if database:
        Storage.check_usable(settings.database_path)
    return settings


def load(*, need_token: bool = False, database: bool = True) -> tuple[Settings, Campaign]:
    """Settings (`checked_settings`), campaign and catalogs, each checked the same way for
    every command that reads them; raises ConfigError, DatabaseUnusable, CampaignError or
    CatalogError with the lines to show."""
    settings = checked_settings(need_token=need_token, database=database)
    campaign = load_campaign(settings.campaign_file)
    if problems := catalog_problems():
        raise CatalogError("\n".join(problems))
    return settings, campaign


async def serve(
    app: Application, settings: Settings, listening: list[socket.socket] | None = None
) -> str:
    """Serve until SIGTERM or Ctrl-C, or until Telegram no longer takes the token (revoked
    meanwhile: nothing would work any more), then shut down cleanly in python-telegram-bot's
    order (as `run_polling` would); returns what stopped it, for the log. Long polling by
    default; a webhook, its secret token required, on the sockets `listening`
    (`webhook.listen`, taken when WEBHOOK_URL is set). A signal that arrives while the bot is
    still starting stops it without taking any update, once what start-up opened can be
    closed: it does not wait for Telegram to answer the command menus and profile
    (`post_init`)."""
    stopped_by: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    for number, reason in STOP_SIGNALS.items():
        asyncio.get_running_loop().add_signal_handler(number, stop, app, stopped_by, reason)
    # Telegram no longer taking the token stops the bot as a signal would.
    refused = asyncio.ensure_future(app.bot_data.token_refused.wait())
    refused.add_done_callback(
        lambda waited: waited.cancelled() or stop(app, stopped_by, TOKEN_REVOKED)
    )
    server = webhook.Webhook(app, settings, listening) if listening else None
    await app.initialize()
    try:
        await app.post_init(app)
        # What start-up loaded (the libraries, atproto's thousands of models) lives as long as
        # the process: out of the collector's way, a full collection no longer walks it and
        # holds the event loop 40-90 ms.
        gc.freeze()
        if stopped_by.done():
            return stopped_by.result()
        try:
            if server is None:
                await app.updater.start_polling(allowed_updates=handlers.ALLOWED_UPDATES)
            else:
                await server.start()
        except InvalidToken:
            return TOKEN_REVOKED  # since start-up checked it, before the first update
        await app.start()
        return await stopped_by
    finally:
        refused.cancel()
        if app.updater.running:
            with contextlib.suppress(InvalidToken):  # why polling ended, logged already
                await app.updater.stop()
        if server is not None:
            await server.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)
        gc.unfreeze()


def stop(app: Application, stopped_by: asyncio.Future[str], reason: str) -> None:
    """A stop signal's handler: the first one gives the reason; a second changes nothing.
    Start-up stops waiting for Telegram, and a person for an outside service, at once."""
    app.bot_data.stop_waiting()
    if not stopped_by.done():
        stopped_by.set_result(reason)


async def reach_telegram(settings: Settings) -> None:
    """Ask Telegram who the bot is, so a wrong token or no connection is one clear line before
    anything starts (raises InvalidToken or NetworkError)."""
    token = settings.telegram_bot_token.get_secret_value()
    async with Bot(token, base_url=settings.telegram_base_url):
        pass


def unreachable(settings: Settings, error: NetworkError) -> str:
    """Why the start stopped when Telegram did not answer: TELEGRAM_BASE_URL is named only if
    someone set it; left empty, the address is Telegram's own and the network is to blame."""
    where = f"could not reach Telegram at {settings.telegram_base_url} ({error.message})"
    if "telegram_base_url" in settings.model_fields_set:
        return (
            f"Setting TELEGRAM_BASE_URL: {where}. Check the setting and the network connection, "
            "then start again."
        )
    return (
        f"No connection: {where}. Check that this machine is online (and, behind a firewall, "
        "that it may reach api.telegram.org), then start again."
    )


def run_command(_: argparse.Namespace) -> int:
    settings, campaign = load(need_token=True)
    logs.configure(settings.log_level, secrets_of(settings))
    # Telegram first: a start that fails there leaves no new database behind.
    try:
        asyncio.run(reach_telegram(settings))
    except InvalidToken:
        return fail(BAD_TOKEN)
    except NetworkError as error:
        return fail(unreachable(settings, error))
    # A busy port, like a wrong token, leaves no new database behind.
    listening = webhook.listen(settings) if settings.webhook_url else None
    # Before anything starts: an unusable database would otherwise fail every update.
    Storage.open(settings.database_path).close()
    app = build_application(settings, campaign=campaign)
    try:
        reason = asyncio.run(serve(app, settings, listening))
    except Exception as error:
        logger.exception("Stopped by an error: %s: %s", type(error).__name__, error)
        return 1
    logger.info("Stopped: %s.", reason)
    return fail(BAD_TOKEN) if reason == TOKEN_REVOKED else 0


def try_command(args: argparse.Namespace) -> int:
    from bot.app.console import run_console

    settings, campaign = load(database=False)  # a temporary database of its own
    return asyncio.run(
        run_console(settings, campaign, language=args.language, sample_data=args.sample_data)
    )


def check_command(_: argparse.Namespace) -> int:
    settings, campaign = load()
    mode = f"webhook at {settings.webhook_url}" if settings.webhook_url else "long polling"
    print(
        f"Settings, campaign file and messages are valid: {campaign.name('en')}, "
        f"{campaign.start_date} to {campaign.end_date}, {organisers_said(settings)}, {mode}."
    )
    today = dt.datetime.now(settings.zone).date()
    for warning in launch_warnings(settings, campaign, today):
        print(f"Warning: {warning}")
    return 0


def launch_warnings(settings: Settings, campaign: Campaign, today: dt.date) -> list[str]:
    """What is valid but probably not ready for a launch."""
    warnings = []
    if settings.telegram_bot_token is None:
        warnings.append("TELEGRAM_BOT_TOKEN is empty: `make run` needs it (`make try` does not).")
    if urlparse(str(campaign.petition_url)).path in ("", "/"):
        warnings.append(
            f"petition_url in {settings.campaign_file} is {campaign.petition_url}, a website's "
            "home page rather than a petition: set it to the live petition before launch."
        )
    if not settings.organiser_ids:
        warnings.append(
            "ORGANISER_IDS is empty: nobody can broadcast, see the figures or moderate messages."
        )
    if missing := settings.x_keys_missing:
        warnings.append(
            f"{', '.join(missing)} empty: the daily prompt is posted to X only when all four X "
            "account keys are set."
        )
    if bool(settings.bluesky_handle) != bool(settings.bluesky_app_password):
        warnings.append(
            "Bluesky is tracked only when both BLUESKY_HANDLE and BLUESKY_APP_PASSWORD are set."
        )
    if campaign.end_date < today:
        warnings.append(
            f"the campaign in {settings.campaign_file} ended on {campaign.end_date}: no daily "
            "prompt will be sent. Set start_date and end_date to this year's dates."
        )
    return warnings


def health_command(_: argparse.Namespace) -> int:
    """Exit 0 while the running bot's heartbeat is fresh; otherwise one line and exit 1."""
    settings = checked_settings()
    try:
        storage = Storage.open_readonly(settings.database_path)
    except sqlite3.Error:
        print(f"Not running: no database at {settings.database_path} yet.", file=sys.stderr)
        return EXIT_UNHEALTHY
    try:
        healthy, line = health.status(storage)
    except sqlite3.Error as error:  # e.g. a file that is not the bot's database
        healthy, line = False, f"Cannot read the heartbeat in {settings.database_path}: {error}."
    finally:
        storage.close()
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else EXIT_UNHEALTHY


def no_database_yet(database: Path) -> int:
    """One line for a command that reads the database before the bot has ever started there:
    where it looked (a relative DATABASE_PATH is read from the current folder) and what to do."""
    return fail(
        f"Setting DATABASE_PATH: no database at {database.absolute()} yet. The bot creates it "
        "when it first starts (`make run`); if it has run, set DATABASE_PATH to its database "
        "or run this command from the bot's folder."
    )


def backup_command(args: argparse.Namespace) -> int:
    settings = checked_settings()
    database = settings.database_path
    if not database.exists():
        return no_database_yet(database)
    typed = args.destination
    destination = None if typed is None else Path(typed)
    # Only the usual folder is made when missing: one typed on the command line is checked, so
    # a typo never makes a new folder tree that the nightly backups then fill unseen.
    if destination is not None and not destination.is_dir():
        # A slash at the end names a folder (an unmounted disk's, say), never a file to write:
        # Path drops that slash.
        folder = destination if typed.endswith(("/", os.sep)) else destination.parent
        if not folder.is_dir():
            return fail(
                f"Could not write the backup {typed}: there is no folder {folder}. "
                "Create it first, or give a folder that exists."
            )
    if destination is None or destination.is_dir():  # a folder: the usual name, in it
        folder = destination or backups.default_folder(database)
        destination = folder / backups.backup_name(database, utcnow())
    try:
        backups.backup(database, destination)
    except (OSError, sqlite3.Error, backups.BackupBusy, backups.NotABackup) as error:
        return fail(f"Could not write the backup {destination}: {error}.")
    print(f"Backed up {database} to {destination}.")
    if args.keep is not None:
        for old in backups.rotate(destination.parent, database, args.keep):
            print(f"Deleted the older backup {old}.")
    return 0


def at_least_one(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("keep at least 1 backup")
    return number


def stats_command(_: argparse.Namespace) -> int:
    settings, campaign = load()
    if not settings.database_path.exists():
        return no_database_yet(settings.database_path)
    storage = Storage.open(settings.database_path)
    try:
        print(format_stats_text(gather_stats(storage, campaign, utcnow())))
    finally:
        storage.close()
    return 0


def mps_sync_command(_: argparse.Namespace) -> int:
    settings = checked_settings()
    return asyncio.run(sync_mps(settings, httpx.AsyncClient(timeout=httpx.Timeout(30.0))))


async def sync_mps(settings: Settings, http: httpx.AsyncClient) -> int:
    """Refresh every sitting MP from the Members API into the cache, with a progress bar."""
    storage = Storage.open(settings.database_path)
    with tqdm(total=650, unit="MP", desc="MPs") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            async with http:
                saved = await sync_all_mps(http, str(settings.members_api_url), storage, progress)
        except LookupUnavailable as error:
            return fail(
                f"Could not refresh the MPs from MEMBERS_API_URL ({error}); try again later."
            )
        finally:
            storage.close()
    print(f"Saved {saved} MPs.")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="stepup-bot", description=__doc__.splitlines()[0])
    root.add_argument("--version", action="version", version=f"stepup-bot {__version__}")
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run", help="run the bot (polling, or webhook when WEBHOOK_URL is set)"
    ).set_defaults(handler=run_command)
    trial = commands.add_parser(
        "try", help="chat with the real bot in this terminal, no token needed"
    )
    trial.add_argument(
        "--language", choices=LANGUAGES, default=None, help="your Telegram language"
    )
    trial.add_argument(
        "--sample-data",
        action="store_true",
        help="answer postcode and MP lookups from built-in samples, to preview the MP journey",
    )
    trial.set_defaults(handler=try_command)
    commands.add_parser(
        "check", help="check the settings and the campaign file (no token needed), then exit"
    ).set_defaults(handler=check_command)
    commands.add_parser(
        "health", help="exit 0 if the running bot's heartbeat is fresh, 1 (and why) if not"
    ).set_defaults(handler=health_command)
    commands.add_parser(
        "stats", help="print the campaign's figures (the same as /stats)"
    ).set_defaults(handler=stats_command)
    mps = commands.add_parser("mps", help="the MP cache")
    mps.add_subparsers(dest="mps_command", required=True).add_parser(
        "sync", help="refresh all 650 MPs from the UK Parliament Members API"
    ).set_defaults(handler=mps_sync_command)
    backup = commands.add_parser("backup", help="copy the database safely while the bot runs")
    backup.add_argument(
        "destination",
        nargs="?",
        help="the backup file, or the folder, to write it to; the folder must exist (default: "
        "backups/<database>-<UTC time>.db beside it, made if missing)",
    )
    backup.add_argument(
        "--keep",
        type=at_least_one,
        metavar="N",
        help="then delete all but the newest N backups in the destination's folder",
    )
    backup.set_defaults(handler=backup_command)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except (ConfigError, CampaignError, CatalogError, webhook.PortUnavailable) as error:
        return fail(str(error))
    except DatabaseUnusable as error:
        return fail(f"Setting DATABASE_PATH: {error}")


if __name__ == "__main__":
    sys.exit(main())
