"""The realistic mix of one supporter's session, shared by the inbound benchmark."""

from __future__ import annotations

from messages import keyboards
from tests.harness import Chat


async def supporter_session(chat: Chat, user_id: int) -> int:
    """A new supporter arrives, opts in, looks around the menu. Returns updates sent."""
    steps = [
        ("send", "/start ref-bench"),
        ("press", keyboards.OPTIN_YES),
        ("send", "/menu"),
        ("press", keyboards.MENU_HELP),
        ("press", keyboards.MENU),
        ("press", keyboards.journey_data("petition")),
        ("send", "/mydata"),
        ("press", keyboards.MENU),
    ]
    for kind, payload in steps:
        if kind == "send":
            await chat.send(user_id, payload)
        else:
            await chat.press(user_id, payload)
    return len(steps)
