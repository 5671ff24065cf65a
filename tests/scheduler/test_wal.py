"""The write-ahead log is folded off the event loop, never by a supporter's commit."""

from __future__ import annotations

from scheduler.wal import FOLD_JOB, fold
from tests.support.fakes import JobContext


async def test_commits_on_the_event_loop_leave_the_log_to_the_fold_job(chat):
    assert chat.app.job_queue.get_jobs_by_name(FOLD_JOB)
    database = chat.storage.path
    log = database.with_name(database.name + "-wal")
    before = database.stat().st_size
    for user_id in range(1, 1500):  # some 1,500 commits: past SQLite's own 1,000-page threshold
        chat.storage.ensure_supporter(user_id, "en")
    assert log.stat().st_size > 1000 * 4096
    assert database.stat().st_size == before  # no commit copied the log into the file
    await fold(JobContext(chat.app))
    assert database.stat().st_size > before
