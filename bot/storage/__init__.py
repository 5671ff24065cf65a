"""Every SQL statement the bot runs, as named methods on `Storage`, one module per area.

`Storage` is composed of one class per area (supporters, conversations, journeys, lobby days,
broadcasts, daily, tracking, outages, stats), each a `Store` (`base.py`: the connection and its
primitives). A new area is one new module with one `Store` subclass, added to `Storage` below.
Nothing outside this package writes SQL. Schema changes are functions at the end of
`migrations.py`.

One connection per process, used from the event loop thread only; calls are short. Another
connection holding the write lock (`stepup-bot mps sync`, a checkpoint waiting for a backup to
finish reading) would make a write wait on the loop, so updates, jobs and broadcast batches
first await `writable()`, which waits for the lock in a worker thread, and the writes after
each update begin with `writing()`, which does the same; on the loop a statement waits at most
50 ms (`Storage.for_event_loop`). Timestamps are ISO-8601
UTC strings (`stamp`).

Transactions, one idiom in two strengths:

- A single statement needs nothing: `db.execute` commits it on its own.
- Several writes that must land together: `with self.db.atomic():` (sqlite-utils; a plain
  BEGIN, nested blocks become savepoints).
- Several statements where what is written depends on what was read (create a supporter unless
  one exists, claim the next batch of deliveries, prepare a day's prompt once, take a request
  from the X budget): `with self.immediate():`, which is `BEGIN IMMEDIATE`. It takes the write
  lock before the first read, so another process on the same file (a second bot during a
  restart, `stepup-bot mps sync`) cannot change the rows between our read and our write. With a
  plain BEGIN the read would take only a read lock, and upgrading it to write after another
  connection committed fails at once with "database is locked" (SQLite cannot wait for it: the
  read would be stale), whatever the busy timeout; BEGIN IMMEDIATE waits for the lock instead.
  Not nestable: call it only from code that is not already in a transaction.
"""

from __future__ import annotations

from bot.storage.base import DatabaseUnusable, Store, stamp, utcnow
from bot.storage.broadcasts import BroadcastStore
from bot.storage.conversations import ConversationStore
from bot.storage.daily import DailyStore
from bot.storage.journeys import JourneyStore
from bot.storage.lobby import LobbyStore
from bot.storage.outages import OutageStore
from bot.storage.stats import StatsStore
from bot.storage.supporters import SupporterStore
from bot.storage.tracking import TrackingStore

__all__ = ["DatabaseUnusable", "Storage", "stamp", "utcnow"]


class Storage(
    SupporterStore,
    ConversationStore,
    JourneyStore,
    LobbyStore,
    BroadcastStore,
    DailyStore,
    TrackingStore,
    OutageStore,
    StatsStore,
    Store,
):
    """The bot's database: open with `Storage.open(path)`, which applies pending migrations."""
