"""Schema history. The schema changes only here, one named migration at a time, so an old
database upgrades in place on the next start (`Storage.open` applies what is pending)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("stepup-bot")


@migrations(name="0001_wal", transactional=False)
def wal(db: Database) -> None:
    """WAL lets readers and the writer work together and survives kill -9; it can't run in a
    transaction, hence its own migration."""
    db.enable_wal()


@migrations(name="0002_supporters")
def supporters(db: Database) -> None:
    db["supporters"].create(
        {
            "user_id": int,
            "language": str,
            "created_at": str,
            "referral_source": str,
            "referral_code": str,
            "constituency_code": str,
            "constituency_name": str,
            "opted_in": int,
            "blocked_at": str,
        },
        pk="user_id",
        not_null={"language", "created_at", "referral_code"},
        defaults={"opted_in": 0},
    )
    db["supporters"].create_index(["referral_code"], unique=True)
    db["supporters"].create_index(["referral_source"])
    db["supporters"].create_index(["opted_in", "language"])
    db["supporters"].create_index(["constituency_code"])
    db["supporters"].create_index(["created_at"])
    db["consents"].create(
        {
            "id": int,
            "user_id": int,
            "subject": str,
            "granted": int,
            "wording_version": str,
            "at": str,
        },
        pk="id",
    )
    db["consents"].create_index(["user_id"])
    db["actions"].create(
        {"id": int, "user_id": int, "kind": str, "at": str, "constituency_code": str},
        pk="id",
        not_null={"user_id", "kind", "at"},
    )
    db["actions"].create_index(["user_id", "kind"])
    db["actions"].create_index(["kind", "at"])
    db["actions"].create_index(["constituency_code", "kind"])


@migrations(name="0003_mps")
def mps(db: Database) -> None:
    db["mps"].create(
        {
            "constituency_code": str,
            "constituency_name": str,
            "member_id": int,
            "name": str,
            "party": str,
            "email": str,
            "x_handle": str,
            "updated_at": str,
        },
        pk="constituency_code",
    )
    db["mp_followups"].create(
        {
            "id": int,
            "user_id": int,
            "constituency_code": str,
            "sent_at": str,
            "due_at": str,
            "asked_at": str,
            "outcome": str,
            "answered_at": str,
        },
        pk="id",
    )
    db["mp_followups"].create_index(["due_at"])
    db["mp_followups"].create_index(["user_id"])
    db["mp_followups"].create_index(["constituency_code", "outcome"])


@migrations(name="0004_solidarity")
def solidarity(db: Database) -> None:
    db["solidarity_messages"].create(
        {
            "id": int,
            "user_id": int,
            "body": str,
            "signature": str,
            "language": str,
            "status": str,
            "created_at": str,
            "moderated_by": int,
            "moderated_at": str,
        },
        pk="id",
        defaults={"status": "pending"},
    )
    db["solidarity_messages"].create_index(["status", "id"])
    db["solidarity_messages"].create_index(["user_id"])


@migrations(name="0005_delivery")
def delivery(db: Database) -> None:
    db["broadcasts"].create(
        {
            "id": int,
            "kind": str,
            "created_by": int,
            "created_at": str,
            "audience": str,
            "texts": str,
            "photo_file_id": str,
            "status": str,
            "scheduled_for": str,
            "started_at": str,
            "finished_at": str,
            "campaign_day": int,
            "total": int,
        },
        pk="id",
    )
    db["broadcasts"].create_index(["status"])
    db["deliveries"].create(
        {
            "broadcast_id": int,
            "user_id": int,
            "status": str,
            "updated_at": str,
            "message_id": int,
            "error": str,
        },
        pk=("broadcast_id", "user_id"),
    )
    db["deliveries"].create_index(["broadcast_id", "status"])
    db["deliveries"].create_index(["user_id"])
    db["daily_runs"].create(
        {
            "campaign_date": str,
            "day": int,
            "broadcast_id": int,
            "channel_status": str,
            "x_status": str,
            "created_at": str,
        },
        pk="campaign_date",
    )
    db["flags"].create({"key": str, "value": str}, pk="key")


@migrations(name="0006_chat_state")
def chat_state(db: Database) -> None:
    """Conversation persistence and the message ids /forget may still delete."""
    db["conversations"].create({"name": str, "key": str, "state": str}, pk=("name", "key"))
    db["user_data"].create({"user_id": int, "data": str}, pk="user_id")
    db["chat_data"].create({"chat_id": int, "data": str}, pk="chat_id")
    db["chat_messages"].create(
        {"chat_id": int, "message_id": int, "at": str}, pk=("chat_id", "message_id")
    )
    db["chat_messages"].create_index(["at"])


@migrations(name="0007_tracking")
def tracking(db: Database) -> None:
    db["hashtag_counts"].create(
        {"source": str, "hashtag": str, "hour": str, "count": int},
        pk=("source", "hashtag", "hour"),
    )
    db["hashtag_posts"].create(
        {
            "source": str,
            "post_id": str,
            "hashtag": str,
            "author": str,
            "text": str,
            "url": str,
            "created_at": str,
            "likes": int,
            "reposts": int,
            "replies": int,
            "quotes": int,
        },
        pk=("source", "post_id"),
    )
    db["hashtag_posts"].create_index(["created_at"])
    db["tracking_checkpoints"].create(
        {"source": str, "hashtag": str, "since_id": str, "updated_at": str},
        pk=("source", "hashtag"),
    )
    db["tracking_requests"].create(
        {"source": str, "day": str, "requests": int}, pk=("source", "day")
    )
    db["tracking_alerts"].create(
        {"source": str, "problem": str, "detail": str, "first_seen": str, "reported_at": str},
        pk=("source", "problem"),
    )


@migrations(name="0008_mps_keyed_by_name")
def mps_keyed_by_name(db: Database) -> None:
    """The Members API publishes no GSS codes, so a bulk sync can't fill a code-keyed cache.
    MPs are keyed by the constituency's normalised name instead (bot.mps.constituency_key), the
    key postcodes.io and Parliament share; the code is kept when a postcode lookup knew it.
    The table is only a cache, so it is rebuilt empty."""
    db["mps"].drop()
    db["mps"].create(
        {
            "constituency_key": str,
            "constituency_code": str,
            "constituency_name": str,
            "member_id": int,
            "name": str,
            "party": str,
            "email": str,
            "x_handle": str,
            "updated_at": str,
        },
        pk="constituency_key",
        not_null={"constituency_name", "member_id", "name", "updated_at"},
    )


@migrations(name="0009_hashtag_post_tags")
def hashtag_post_tags(db: Database) -> None:
    """Which tracked hashtags each stored post was found under. A post often carries several
    (#16Days with #StepUpMigrantWomen), and Bluesky has no counts endpoint, so its hourly counts
    are computed from these rows."""
    db["hashtag_post_tags"].create(
        {"source": str, "post_id": str, "hashtag": str}, pk=("source", "post_id", "hashtag")
    )
    db["hashtag_post_tags"].create_index(["source", "hashtag"])


@migrations(name="0010_broadcast_buttons")
def broadcast_buttons(db: Database) -> None:
    """An optional link button under a broadcast, one per language: {language: {label, url}}."""
    db["broadcasts"].add_column("buttons", str)


@migrations(name="0011_stats_indexes")
def stats_indexes(db: Database) -> None:
    """Indexes that keep /stats and broadcast audiences fast at 100,000 supporters and 1,000,000
    actions (bench/bench_database.py): the people who did a kind (funnel, audiences with or
    without an action), letters per constituency, and supporters per language with their
    subscription (counts and language audiences read the index alone)."""
    db["actions"].create_index(["kind", "user_id"])
    db["actions"].create_index(["kind", "constituency_code"])
    db["supporters"].create_index(["language", "opted_in", "blocked_at"])


@migrations(name="0012_deliveries_without_user_index")
def deliveries_without_user_index(db: Database) -> None:
    """Every broadcast inserts a row per recipient; an index on user_id scattered those writes
    across the whole index and made starting a broadcast slow. /forget and /mydata find a
    person's deliveries through the primary key instead (see `supporters.PERSONAL_ROWS`)."""
    db.execute("DROP INDEX IF EXISTS idx_deliveries_user_id")


@migrations(name="0013_service_outages")
def service_outages(db: Database) -> None:
    """Outside services failing (bot.outages): failures in a row, and whether organisers were
    told, so one outage is one alert, and one more when it is over, across restarts."""
    db["service_outages"].create(
        {
            "service": str,
            "failures": int,
            "detail": str,
            "since": str,
            "reported_at": str,
            "recovered_at": str,
        },
        pk="service",
        not_null={"failures", "detail", "since"},
    )


@migrations(name="0014_lobby")
def lobby(db: Database) -> None:
    """Lobby days (bot/lobby.py): events with their texts as JSON {language: text}; RSVPs by
    constituency with the MP (never the postcode) and a timestamp for each reminder or question
    claimed, so each goes at most once; stories for the live blog, stored only with permission
    to publish. The MP cache gains the office phone number for "call their office"."""
    db["lobby_events"].create(
        {
            "id": int,
            "title": str,
            "place": str,
            "bring": str,
            "starts_at": str,
            "rsvp_deadline": str,
            "hashtag": str,
            "status": str,
            "created_by": int,
            "created_at": str,
            "updated_at": str,
            "fallback_at": str,
        },
        pk="id",
        not_null={"title", "place", "starts_at", "rsvp_deadline", "hashtag", "status"},
    )
    db["lobby_rsvps"].create(
        {
            "event_id": int,
            "user_id": int,
            "status": str,
            "constituency_code": str,
            "constituency_name": str,
            "mp_member_id": int,
            "mp_name": str,
            "mp_party": str,
            "created_at": str,
            "updated_at": str,
            "request_sent_at": str,
            "eve_sent_at": str,
            "morning_sent_at": str,
            "outcome_asked_at": str,
            "outcome": str,
            "outcome_at": str,
            "cancel_told_at": str,
        },
        pk=("event_id", "user_id"),
        not_null={"status", "created_at", "updated_at"},
        foreign_keys=[("event_id", "lobby_events", "id")],
    )
    db["lobby_rsvps"].create_index(["event_id", "status", "constituency_code"])
    db["lobby_rsvps"].create_index(["user_id"])
    db["lobby_stories"].create(
        {
            "id": int,
            "event_id": int,
            "user_id": int,
            "body": str,
            "signature": str,
            "language": str,
            "status": str,
            "created_at": str,
            "moderated_by": int,
            "moderated_at": str,
        },
        pk="id",
        not_null={"event_id", "user_id", "body", "status", "created_at"},
        foreign_keys=[("event_id", "lobby_events", "id")],
    )
    db["lobby_stories"].create_index(["event_id", "status"])
    db["lobby_stories"].create_index(["user_id"])
    db["mps"].add_column("phone", str)


@migrations(name="0015_consent_by_kind")
def consent_by_kind(db: Database) -> None:
    """The daily prompt, campaign updates and what comes next after the campaign become separate
    choices (bot.consent). `opted_in` stays the daily prompt's. Nobody is moved to the new two:
    saying yes to "one short prompt a day" was not saying yes to organisers' broadcasts, so
    everyone starts at no and is asked at their next /start or from the menu's Messages screen.

    A printed solidarity message gets `printed_at`, and from then on no author (see
    JourneyStore.mark_printed)."""
    for column in ("updates_opted_in", "whats_next_opted_in"):
        db["supporters"].add_column(column, int, not_null_default=0)
        db["supporters"].create_index([column, "language", "blocked_at"])
    db["solidarity_messages"].add_column("printed_at", str)


@migrations(name="0016_lobby_deliveries")
def lobby_deliveries(db: Database) -> None:
    """Lobby days' messages go through the delivery engine (bot.delivery): each moment of an
    event (reminders, the message on the day, the question afterwards) becomes a broadcast,
    recorded in `lobby_moments` in the same transaction, instead of a timestamp per supporter
    claimed before sending (which a crash could lose). Moments already claimed stay done.
    Events get a revision, raised when their start or place changes, so buttons under an older
    message can tell."""
    db["lobby_moments"].create(
        {"event_id": int, "moment": str, "broadcast_id": int, "created_at": str},
        pk=("event_id", "moment"),
        not_null={"created_at"},
        foreign_keys=[("event_id", "lobby_events", "id")],
    )
    claimed = {"eve": "eve_sent_at", "morning": "morning_sent_at", "outcome": "outcome_asked_at"}
    for moment, column in claimed.items():
        db.execute(
            "INSERT INTO lobby_moments (event_id, moment, created_at) SELECT event_id, ?,"
            f" min({column}) FROM lobby_rsvps WHERE {column} IS NOT NULL GROUP BY event_id",
            [moment],
        )
    db.execute(
        "INSERT INTO lobby_moments (event_id, moment, created_at)"
        " SELECT id, 'fallback', fallback_at FROM lobby_events WHERE fallback_at IS NOT NULL"
    )
    db["lobby_events"].add_column("revision", int, not_null_default=0)
    db["lobby_events"].transform(drop={"fallback_at"})
    db["lobby_rsvps"].transform(
        drop={"eve_sent_at", "morning_sent_at", "outcome_asked_at", "cancel_told_at"}
    )


@migrations(name="0017_shared_chats_told")
def shared_chats_told(db: Database) -> None:
    """Groups and channels already told "message me privately", so a restart does not say it
    again (X8). A shared chat's id and when: nothing about any person."""
    db["shared_chats_told"].create(
        {"chat_id": int, "told_at": str}, pk="chat_id", not_null={"told_at"}
    )


@migrations(name="0018_stopped_at")
def stopped_at(db: Database) -> None:
    """When a supporter last sent /stop, kept apart from their choices: saying no to one kind of
    message (campaign updates, say) no longer ends the news of a lobby day they said yes to or
    the follow-up their letter set up; only /stop does (bot.consent). Old records cannot tell
    /stop from three separate noes, so whoever has every choice at no now counts as having
    sent /stop at their latest decision: silence, where in doubt."""
    db["supporters"].add_column("stopped_at", str)
    db.execute(
        "UPDATE supporters SET stopped_at = (SELECT max(c.at) FROM consents c"
        " WHERE c.user_id = supporters.user_id) WHERE opted_in = 0 AND updates_opted_in = 0"
        " AND whats_next_opted_in = 0"
    )


@migrations(name="0019_mp_followup_deliveries")
def mp_followup_deliveries(db: Database) -> None:
    """"Did your MP reply?" goes through the delivery engine (bot.delivery): follow-ups come
    due are put in a broadcast (`broadcast_id`) in the transaction that creates it, and from
    then on are delivered like any other message (resumed after a crash, sent again after an
    outage), where before each was marked asked before its send, which a crash or an outage of
    Telegram lost. Follow-ups asked already stay asked."""
    db["mp_followups"].add_column("broadcast_id", int)
    db["mp_followups"].create_index(["broadcast_id", "user_id"])


@migrations(name="0020_handled_updates")
def handled_updates(db: Database) -> None:
    """The ids of the updates lately handled to the end, so one that Telegram gives again
    after a crash (its confirmation never reached Telegram) is not handled twice. An update's
    id and when: nothing about any person."""
    db["handled_updates"].create({"update_id": int, "at": str}, pk="update_id", not_null={"at"})


@migrations(name="0021_prepared_through")
def prepared_through(db: Database) -> None:
    """A broadcast's recipients are written a slice of supporters at a time, each slice a short
    transaction, so that starting one for 100,000 supporters never holds the bot for long; the
    broadcast is 'preparing' until the last slice is written. `prepared_through` is the highest
    supporter id written so far: a restart carries on after it."""
    db["broadcasts"].add_column("prepared_through", int)


@migrations(name="0022_organiser_languages")
def organiser_languages(db: Database) -> None:
    """The language an organiser chose for their own commands before (or without ever) starting
    as a supporter: it lived only on a supporter's row, so /language did nothing for them. It
    moves to their supporter row if they send /start; /mydata shows it, /forget erases it."""
    db["organiser_languages"].create(
        {"user_id": int, "language": str, "chosen_at": str},
        pk="user_id",
        not_null={"language", "chosen_at"},
    )


@migrations(name="0023_chat_state_without_rowid")
def chat_state_without_rowid(db: Database) -> None:
    """Conversation states and the ids of the messages /forget may delete are written after
    nearly every update. Each table was its rows plus a second B-tree for its composite key; as
    WITHOUT ROWID tables the key is the table, a fifth fewer pages for an update's commit."""
    for table, columns, key in (
        ("conversations", '"name" TEXT, "key" TEXT, "state" TEXT', '"name", "key"'),
        (
            "chat_messages",
            '"chat_id" INTEGER, "message_id" INTEGER, "at" TEXT',
            '"chat_id", "message_id"',
        ),
    ):
        db.execute(f'CREATE TABLE "{table}_new" ({columns}, PRIMARY KEY ({key})) WITHOUT ROWID')
        db.execute(f'INSERT INTO "{table}_new" SELECT * FROM "{table}"')
        db.execute(f'DROP TABLE "{table}"')
        db.execute(f'ALTER TABLE "{table}_new" RENAME TO "{table}"')
    db["chat_messages"].create_index(["at"])
