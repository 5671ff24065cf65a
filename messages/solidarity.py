"""The solidarity journey's screens and buttons, its moderation view, and the printed cards' words.

Pure: values in, escaped Telegram HTML, keyboards or plain card text out. The handlers in
handlers/solidarity.py match on the same callback-data constants.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup

from bot import solidarity
from bot.campaign import Campaign
from messages import keyboards
from messages.i18n import Html, catalog, number, text

WRITE = "solidarity:write"
POSTED = "solidarity:posted"
ANONYMOUS = "solidarity:anonymous"
SEND = "solidarity:send"
EDIT = "solidarity:edit"
CANCEL = "solidarity:cancel"
APPROVE = "solidarity:approve"
REJECT = "solidarity:reject"
REJECT_YES = "solidarity:rejectyes"  # Reject, confirmed
PENDING_NEXT = "solidarity:pending"  # back to the message waiting
EXPORT = "solidarity:pdf"

MENU_BUTTON = ("core.menu.button_back", keyboards.MENU)
CANCEL_BUTTON = ("solidarity.cancel_button", CANCEL)
ANONYMOUS_BUTTON = ("solidarity.anonymous_button", ANONYMOUS)
WRITE_BUTTON = ("solidarity.write_button", WRITE)
# A message in a script the card fonts lack would list every character: a few say enough.
UNPRINTABLE_SHOWN = 12


def keyboard(lang: str, *buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    """One button per row: (catalog key, callback data)."""
    return keyboards.Keyboard([[keyboards.button(lang, key, data)] for key, data in buttons])


# --- the supporter's journey --------------------------------------------------------------------


def intro(lang: str, campaign: Campaign) -> Html:
    details = campaign.solidarity
    return text(
        lang,
        "solidarity.intro",
        address=details.address,
        suggested=details.suggested_message(lang),
        languages=details.accepted_languages(lang),
    )


def intro_keyboard(lang: str) -> InlineKeyboardMarkup:
    return keyboard(lang, ("solidarity.posted_button", POSTED), WRITE_BUTTON, MENU_BUTTON)


def posted_keyboard(lang: str) -> InlineKeyboardMarkup:
    return keyboard(lang, WRITE_BUTTON, MENU_BUTTON)


def cancel_keyboard(lang: str) -> InlineKeyboardMarkup:
    return keyboard(lang, CANCEL_BUTTON)


def signature_keyboard(lang: str) -> InlineKeyboardMarkup:
    """Asking for a signature (again, after one that can't be used): sign anonymously, or
    cancel."""
    return keyboard(lang, ANONYMOUS_BUTTON, CANCEL_BUTTON)


def signoff(lang: str, signature: str | None) -> Html:
    if signature:
        return text(lang, "solidarity.signed_as", signature=signature)
    return text(lang, "solidarity.signed_anonymously")


def preview_text(lang: str, draft: dict[str, Any], unprintable: list[str]) -> Html:
    """The message as it will be sent, warning of the characters the card would leave out."""
    preview = text(
        lang,
        "solidarity.preview",
        body=draft["body"],
        signoff=signoff(lang, draft.get("signature")),
    )
    if not unprintable:
        return preview
    warning = text(lang, "solidarity.preview_unprintable", characters=listed(unprintable))
    return Html(f"{preview}\n\n{warning}")


def listed(unprintable: list[str]) -> str:
    """The first few characters a card can't show, for a person to recognise them."""
    shown = " ".join(unprintable[:UNPRINTABLE_SHOWN])
    return f"{shown} …" if len(unprintable) > UNPRINTABLE_SHOWN else shown


def confirm_keyboard(lang: str) -> InlineKeyboardMarkup:
    return keyboard(
        lang,
        ("solidarity.send_button", SEND),
        ("solidarity.edit_button", EDIT),
        CANCEL_BUTTON,
    )


# --- organisers: moderation and the PDF ---------------------------------------------------------


def moderation_view(
    lang: str,
    item: dict[str, Any] | None,
    counts: dict[str, int],
    note: Html | None,
    unprintable: list[str],
) -> Html:
    """What was just decided, the queue's figures, and the next message waiting (escaped), with
    the characters of it the printed card would leave out."""
    lines = [note] if note else []
    lines.append(
        text(
            lang,
            "solidarity.moderate_counts",
            pending=number(lang, counts.get(solidarity.PENDING, 0)),
            approved=number(lang, counts.get(solidarity.APPROVED, 0)),
            rejected=number(lang, counts.get(solidarity.REJECTED, 0)),
        )
    )
    if item is None:
        lines.append(text(lang, "solidarity.moderate_empty"))
    else:
        lines.append(
            text(
                lang,
                "solidarity.moderate_item",
                id=item["id"],
                written_in=catalog(item["language"])["core.language.name"],
                signoff=signoff(lang, item["signature"]),
                body=item["body"],
            )
        )
        if unprintable:
            shown = listed(unprintable)
            lines.append(text(lang, "solidarity.moderate_unprintable", characters=shown))
    return Html("\n\n".join(lines))


def moderation_keyboard(
    lang: str, item: dict[str, Any] | None, approved: int
) -> InlineKeyboardMarkup | None:
    buttons = []
    if item is not None:
        buttons.append(
            [
                keyboards.button(lang, "solidarity.approve_button", f"{APPROVE}:{item['id']}"),
                keyboards.button(lang, "solidarity.reject_button", f"{REJECT}:{item['id']}"),
            ]
        )
    if approved:
        buttons.append([keyboards.button(lang, "solidarity.pdf_button", EXPORT)])
    return keyboards.Keyboard(buttons) if buttons else None


def confirm_reject_keyboard(lang: str, message_id: int) -> InlineKeyboardMarkup:
    """Reject, confirmed, or back to the message still waiting."""
    data = f"{REJECT_YES}:{message_id}"
    reject = keyboards.button(lang, "solidarity.confirm_reject_button", data)
    back = keyboards.button(lang, "solidarity.keep_waiting_button", PENDING_NEXT)
    return keyboards.Keyboard([[reject], [back]])


def decision_note(lang: str, message_id: int, action: str, before: str | None) -> Html:
    """What a moderation button did, given the message's status before it was pressed."""
    if before is None:
        return text(lang, "solidarity.no_such_message", id=message_id)
    if before == solidarity.PENDING:
        key = "decided_approved" if action == APPROVE else "decided_rejected"
    else:
        key = "already_approved" if before == solidarity.APPROVED else "already_rejected"
    return text(lang, f"solidarity.{key}", id=message_id)


def plain(lang: str, key: str, **values: str) -> str:
    """A catalog text printed on paper: placeholders filled in as they are, not HTML-escaped."""
    return catalog(lang)[key].format(**values)


def pdf_title(lang: str) -> str:
    return plain(lang, "solidarity.pdf_title")


def card(row: dict[str, Any], campaign: Campaign) -> solidarity.Card:
    """The printed card for an approved message, in the language it was written in."""
    lang = row["language"]
    return solidarity.Card(
        heading=plain(lang, "solidarity.card_heading"),
        body=row["body"],
        signoff=(
            plain(lang, "solidarity.card_signed", signature=row["signature"])
            if row["signature"]
            else plain(lang, "solidarity.card_anonymous")
        ),
        footer=plain(
            lang,
            "solidarity.card_footer",
            campaign=campaign.name(lang),
            hashtags=campaign.hashtag_line,
        ),
    )
