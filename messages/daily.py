"""The daily prompt's words: what supporters, the channel and X read each campaign day, and the
/schedule overview organisers read.

The domain side (`bot.daily`) sends and records; it receives these words as a `DayWords`.
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import delivery
from bot.campaign import LANGUAGES, Campaign
from bot.config import Settings
from bot.daily import (
    FAILED,
    POSTED,
    POSTING,
    RETRY,
    UNKNOWN,
    DayStatus,
    DayWords,
    Recipients,
    deep_link,
)
from bot.delivery import LinkButton, link_keyboard
from messages import keyboards
from messages.consent import MESSAGES
from messages.core import campaign_dates, zone_name
from messages.core import date as date_label
from messages.i18n import Html, catalog, escape, join, label, number, text

# /schedule's callback data; handlers.schedule matches on the same constants.
PREFIX = "schedule:"
SHOW = "schedule:show"
DAYS = "schedule:days"
DAY_PREFIX = "schedule:day:"
PREVIEW_PREFIX = "schedule:preview:"
PAUSE = "schedule:pause"
RESUME = "schedule:resume"
SEND = "schedule:send"
SEND_CONFIRMED = "schedule:send:yes"
DAYS_PER_ROW = 4

X_MAX_LENGTH = 280
X_LINK_LENGTH = 23  # X counts every link as this many characters, whatever its length
# Code points X counts as one character (twitter-text's config v3); everything else counts two.
X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
ELLIPSIS = "…"


def _section(campaign: Campaign, day: int, language: str) -> str:
    heading = text(language, "daily.heading", day=day, total=campaign.total_days)
    return f"{heading}\n{escape(campaign.prompt_for_day(day).text(language))}"


def prompt_text(campaign: Campaign, day: int, language: str, bot_username: str) -> Html:
    """Day N of 16, the day's prompt and the campaign hashtags, as a supporter gets them. The
    last day's also offers what comes next (`whats_next_offer`)."""
    body = f"{_section(campaign, day, language)}\n\n{escape(campaign.hashtag_line)}"
    if day == campaign.total_days:
        body += f"\n\n{whats_next_offer(campaign, language, bot_username)}"
    return Html(body)


def whats_next_offer(campaign: Campaign, language: str, bot_username: str) -> Html:
    """Once, in the last prompt (so nobody who did not ask for prompts gets a message for it):
    after the campaign only those who asked for what comes next hear from it, and the link to
    the Messages screen where that is one tap."""
    return text(
        language,
        "daily.whats_next_offer",
        end=date_label(language, campaign.end_date),
        link=deep_link(bot_username, MESSAGES),
    )


def prompt_button(campaign: Campaign, bot_username: str, day: int, language: str) -> LinkButton:
    """The button under the prompt, opening the day's journey in the bot."""
    journey = campaign.prompt_for_day(day).journey
    return LinkButton(label(language, f"daily.button_{journey}"), deep_link(bot_username, journey))


def channel_text(campaign: Campaign, day: int) -> Html:
    sections = [_section(campaign, day, language) for language in LANGUAGES]
    return Html("\n\n".join([*sections, escape(campaign.hashtag_line)]))


def channel_markup(campaign: Campaign, bot_username: str, day: int) -> InlineKeyboardMarkup:
    return link_keyboard(
        *(prompt_button(campaign, bot_username, day, language) for language in LANGUAGES)
    )


def x_length(post: str, link: str) -> int:
    """Length as X counts it: links count 23, characters outside X's light ranges count 2."""
    rest = post.replace(link, "")
    weight = sum(1 if any(a <= ord(c) <= b for a, b in X_LIGHT_RANGES) else 2 for c in rest)
    return weight + X_LINK_LENGTH * post.count(link)


def x_text(campaign: Campaign, bot_username: str, day: int) -> str:
    """The English prompt for X, plain text: heading, prompt, link and hashtags, within 280
    characters; a long prompt loses its last words (never the link or the hashtags)."""
    prompt = campaign.prompt_for_day(day)
    link = deep_link(bot_username, prompt.journey)

    def post(words: str) -> str:
        return catalog("en")["daily.x_post"].format(
            day=day,
            total=campaign.total_days,
            text=words,
            link=link,
            hashtags=campaign.hashtag_line,
        )

    words = prompt.text("en")
    if x_length(post(words), link) <= X_MAX_LENGTH:
        return post(words)
    room = X_MAX_LENGTH - x_length(post(ELLIPSIS), link)
    while words and x_length(words, link) > room:
        cut = words.rfind(" ")
        words = words[:cut] if cut > 0 else words[:-1]
    return post(words.rstrip(" ,;:.") + ELLIPSIS)


FIRST_WORDS = 6
_POST_STATUS_KEYS = {
    None: "post_waiting",
    POSTING: "post_posting",
    POSTED: "post_sent",
    FAILED: "post_failed",
    UNKNOWN: "post_unknown",
    RETRY: "post_retry",
}


def first_words(prompt: str, count: int = FIRST_WORDS) -> str:
    words = prompt.split()
    return " ".join(words[:count]) + (ELLIPSIS if len(words) > count else "")


def prompt_clock(campaign: Campaign) -> str:
    return campaign.prompt_time.strftime("%H:%M")


def render_journey(language: str, campaign: Campaign, day: int) -> Html:
    return text(language, f"daily.journey_{campaign.prompt_for_day(day).journey}")


def _post_status(language: str, configured: bool, status: str | None) -> Html:
    key = _POST_STATUS_KEYS.get(status, "post_failed") if configured else "post_off"
    return text(language, f"daily.schedule.{key}")


def _x_status(language: str, settings: Settings, status: DayStatus) -> Html:
    if missing := settings.x_keys_missing:
        return text(language, "daily.schedule.post_x_partial", keys=", ".join(missing))
    if settings.x_can_post and status.x_retry_at is not None:
        time = status.x_retry_at.astimezone(settings.zone).strftime("%H:%M")
        return text(language, "daily.schedule.post_rate_limited", time=time)
    return _post_status(language, settings.x_can_post, status.x_status)


def render_today(
    language: str, campaign: Campaign, settings: Settings, today: dt.date, status: DayStatus | None
) -> Html:
    day = campaign.day_number(today)
    if day is None:
        return text(
            language, "daily.schedule.not_campaign_day", dates=campaign_dates(language, campaign)
        )
    lines = [
        text(
            language,
            "daily.schedule.today",
            date=date_label(language, today),
            day=day,
            total=campaign.total_days,
        )
    ]
    if status is None:
        lines.append(text(language, "daily.schedule.waiting", time=prompt_clock(campaign)))
    elif status.total is None:
        lines.append(text(language, "daily.schedule.preparing"))
    else:
        lines.append(
            text(
                language,
                "daily.schedule.counts",
                sent=number(language, status.counts.get(delivery.SENT, 0)),
                total=number(language, status.total),
                left=number(language, status.left),
                blocked=number(language, status.counts.get(delivery.BLOCKED, 0)),
                failed=number(language, status.counts.get(delivery.FAILED, 0)),
                skipped=number(language, status.counts.get(delivery.SKIPPED, 0)),
                unknown=number(language, status.counts.get(delivery.UNKNOWN, 0)),
            )
        )
        lines.append(
            text(
                language,
                "daily.schedule.posts",
                channel=_post_status(language, bool(settings.channel_id), status.channel_status),
                x=_x_status(language, settings, status),
            )
        )
    return Html("\n".join(lines))


def render_coming(language: str, campaign: Campaign, today: dt.date) -> Html:
    """The prompts after today's (all of them before the campaign starts)."""
    first = max(today + dt.timedelta(days=1), campaign.start_date)
    if first > campaign.end_date:
        return text(language, "daily.schedule.ended", date=date_label(language, campaign.end_date))
    lines = [text(language, "daily.schedule.coming")]
    for day in range(campaign.day_number(first), campaign.total_days + 1):
        lines.append(
            text(
                language,
                "daily.schedule.coming_item",
                date=date_label(language, campaign.date_of_day(day)),
                day=day,
                journey=render_journey(language, campaign, day),
                words=first_words(campaign.prompt_for_day(day).text(language)),
            )
        )
    return Html("\n".join(lines))


def render_schedule(
    language: str,
    campaign: Campaign,
    settings: Settings,
    today: dt.date,
    status: DayStatus | None,
    paused: bool,
    late: int = 0,
    nobody: bool = False,
) -> Html:
    """The /schedule overview: when prompts go out, today's progress (and the `late`
    subscribers still to get it, or that `nobody` would get today's), the coming prompts."""
    zone = zone_name(language, settings.tz)
    blocks = [text(language, "daily.schedule.title", time=prompt_clock(campaign), zone=zone)]
    if paused:
        blocks.append(text(language, "daily.schedule.paused"))
    blocks.append(render_today(language, campaign, settings, today, status))
    if nobody:
        blocks.append(text(language, "daily.schedule.nobody_to_send"))
    if late:
        blocks.append(text(language, "daily.schedule.late", count=late))
    blocks.append(render_coming(language, campaign, today))
    return Html("\n\n".join(blocks))


def day_words(campaign: Campaign, bot_username: str, day: int) -> DayWords:
    """Everything the day's prompt says, in every language and for every audience."""
    return DayWords(
        texts={
            language: prompt_text(campaign, day, language, bot_username) for language in LANGUAGES
        },
        buttons={
            language: prompt_button(campaign, bot_username, day, language) for language in LANGUAGES
        },
        channel_text=channel_text(campaign, day),
        channel_markup=channel_markup(campaign, bot_username, day),
        x_post=x_text(campaign, bot_username, day),
    )


# --- /schedule's keyboards (callback data above) ----------------------------------------------


def back_button(lang: str) -> InlineKeyboardButton:
    """Back to the /schedule overview."""
    return keyboards.button(lang, "daily.schedule.button_back", SHOW)


def send_confirm(lang: str, day: int, recipients: Recipients) -> Html:
    """Ask before sending day `day`'s prompt now, naming where it would go."""
    targets = []
    if recipients.subscribers:
        targets.append(text(lang, "daily.schedule.to_subscribers", count=recipients.subscribers))
    if recipients.channel:
        targets.append(text(lang, "daily.schedule.to_channel"))
    if recipients.x:
        targets.append(text(lang, "daily.schedule.to_x"))
    return text(lang, "daily.schedule.send_confirm", day=day, recipients=join(lang, targets))


def overview_keyboard(lang: str, paused: bool, sendable: bool) -> InlineKeyboardMarkup:
    """Preview, pause or resume, and "send today's now" when it would send something."""
    buttons = [
        keyboards.button(lang, "daily.schedule.button_preview", DAYS),
        keyboards.button(lang, "daily.schedule.button_resume", RESUME)
        if paused
        else keyboards.button(lang, "daily.schedule.button_pause", PAUSE),
    ]
    if sendable:
        buttons.append(keyboards.button(lang, "daily.schedule.button_send", SEND))
    return keyboards.Keyboard(keyboards.rows(*buttons))


def days_keyboard(lang: str, total_days: int) -> InlineKeyboardMarkup:
    """One button per campaign day, to preview its prompt."""
    days = [
        InlineKeyboardButton(
            label(lang, "daily.schedule.day_button", day=day), callback_data=f"{DAY_PREFIX}{day}"
        )
        for day in range(1, total_days + 1)
    ]
    return keyboards.Keyboard([*keyboards.rows(*days, width=DAYS_PER_ROW), [back_button(lang)]])


def languages_keyboard(lang: str, day: int) -> InlineKeyboardMarkup:
    """The language to preview a day's prompt in, each named in itself."""
    choices = [
        InlineKeyboardButton(
            catalog(code)["core.language.name"], callback_data=f"{PREVIEW_PREFIX}{day}:{code}"
        )
        for code in LANGUAGES
    ]
    back = keyboards.button(lang, "daily.schedule.button_preview", DAYS)
    return keyboards.Keyboard([choices, [back]])


def confirm_keyboard(lang: str) -> InlineKeyboardMarkup:
    """Yes, send today's prompt now; or back."""
    return keyboards.Keyboard(
        [
            [
                keyboards.button(lang, "daily.schedule.send_yes", SEND_CONFIRMED),
                keyboards.button(lang, "daily.schedule.send_no", SHOW),
            ]
        ]
    )


def back_keyboard(lang: str) -> InlineKeyboardMarkup:
    return keyboards.Keyboard([[back_button(lang)]])


def preview_choice(lang: str, campaign: Campaign, day: int) -> Html:
    """Which language to preview the day's prompt in."""
    return text(
        lang,
        "daily.schedule.choose_language",
        day=day,
        date=date_label(lang, campaign.date_of_day(day)),
        journey=render_journey(lang, campaign, day),
    )
