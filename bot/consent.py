"""What each supporter agreed to hear from the campaign, and the rules a message has to pass at
the moment it is sent (P2, P7).

Three separate choices, each recorded with its time and the wording version it answered; saying
yes to one is never saying yes to another:

- the daily prompt: one message a day on the campaign's days;
- campaign updates: organisers' broadcasts (and lobby-day reminders) during the campaign, at most
  `Rules.daily_cap` a day besides the prompt;
- what comes next: organisers' messages after the campaign's last day.

Two kinds of message answer something the person did rather than a choice: the news that a lobby
day they said yes to has changed or is cancelled (`NOTICE_KIND`, to everyone going who has not
said /stop since), and a follow-up question their own action set up: "Did your MP reply?" 14 days
after a letter, "How did it go?" after a lobby day (`FOLLOWUP_KIND`). During the campaign a
follow-up needs no choice beyond not having said /stop since; after it, only those who agreed to
hear what comes next are asked (P7: nothing after the campaign without a yes). Saying no to one
kind of message (campaign updates, say) is not /stop: it ends that kind, not what the person's
own yes or letter asked for; /stop ends everything, and the consent question and the Messages
screen say so.

`Rules` answers, for a kind of message and a moment, which choice it needs; the delivery engine
applies them when it fixes a broadcast's recipients and again for each recipient as it sends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.storage.supporters import DAILY_PROMPT, UPDATES, WHATS_NEXT

if TYPE_CHECKING:
    from bot.campaign import Campaign
    from bot.config import Settings
    from bot.storage import Storage

SUBJECTS = (DAILY_PROMPT, UPDATES, WHATS_NEXT)

# The delivery engine's kinds of message (bot.delivery.KINDS).
DAILY_KIND = "daily_prompt"
BROADCAST_KIND = "broadcast"
REMINDER_KIND = "lobby_reminder"  # to those going who hear from the campaign; no daily cap
NOTICE_KIND = "lobby_notice"
FOLLOWUP_KIND = "followup"


@dataclass(frozen=True)
class Rules:
    """When the campaign is over and how many organiser broadcasts a person may get a day."""

    ends_at: dt.datetime  # midnight after the campaign's last day, local time (aware)
    daily_cap: int  # organiser broadcasts per person per local day, the daily prompt aside
    zone: ZoneInfo

    @classmethod
    def of(cls, campaign: Campaign, settings: Settings) -> Rules:
        """The rules for this campaign under these settings (BROADCASTS_PER_DAY, TZ)."""
        zone = settings.zone
        last_day = campaign.end_date + dt.timedelta(days=1)
        ends_at = dt.datetime.combine(last_day, dt.time(0), tzinfo=zone)
        return cls(ends_at=ends_at, daily_cap=settings.broadcasts_per_day, zone=zone)

    def over(self, now: dt.datetime) -> bool:
        return now >= self.ends_at

    def day_start(self, now: dt.datetime) -> dt.datetime:
        """Local midnight starting `now`'s day: the daily cap counts from there."""
        return dt.datetime.combine(now.astimezone(self.zone).date(), dt.time(0), tzinfo=self.zone)

    def subject_for(self, kind: str, now: dt.datetime) -> str | None:
        """The choice a message of `kind` needs from its recipient at `now`; None when it needs
        none (its audience is who asked for it, see the module docstring)."""
        if kind == DAILY_KIND:
            return DAILY_PROMPT
        if kind == NOTICE_KIND or (kind == FOLLOWUP_KIND and not self.over(now)):
            return None
        return WHATS_NEXT if self.over(now) else UPDATES

    def capped(self, kind: str) -> bool:
        """Whether messages of `kind` count against (and are held to) the daily cap."""
        return kind == BROADCAST_KIND


def hears_from_campaign(storage: Storage, user_id: int, rules: Rules, now: dt.datetime) -> bool:
    """Whether an organiser's message may go to this person now: they agreed to campaign updates
    (or, after the campaign, to what comes next) and have not blocked the bot: what a lobby-day
    reminder needs, said when someone says yes; broadcasts check it themselves."""
    return storage.may_receive(user_id, rules.subject_for(BROADCAST_KIND, now))


def stop_everything(storage: Storage, user_id: int, wording_version: str) -> bool:
    """/stop: every choice becomes no (a repeated /stop records nothing new). Returns whether
    the person was hearing from us at all."""
    was_on = any(storage.consents(user_id).values())
    storage.set_consents(user_id, dict.fromkeys(SUBJECTS, False), wording_version, stop=True)
    return was_on
