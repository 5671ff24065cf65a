"""The realistic mix of one supporter's session, shared by the inbound benchmark: a new
supporter arrives by a shared link, opts in, looks around, writes to their MP (postcode
lookup served by a local fake of postcodes.io and the Members API), and checks their data."""

from __future__ import annotations

from messages import keyboards, mp
from tests.support.harness import Chat
from tests.support.parliament import FakeServices, client, lookup_routes

SESSION = [
    ("send", "/start ref-bench"),
    ("press", keyboards.OPTIN_YES),
    ("send", "/menu"),
    ("press", keyboards.MENU_HELP),
    ("press", keyboards.journey_data("mp")),
    ("press", mp.FIND),
    ("send", "sw1a 1aa"),
    ("send", "Ana"),
    ("send", "I volunteer at a refuge and see this every week."),
    ("press", mp.SENT),
    ("press", keyboards.journey_data("petition")),
    ("send", "/mydata"),
]


async def serve_lookups_locally(chat: Chat) -> None:
    await chat.app.bot_data.http.aclose()
    chat.app.bot_data.http = client(FakeServices(lookup_routes()))


async def supporter_session(chat: Chat, user_id: int) -> None:
    """Walk one supporter through the session, as they would type and tap."""
    for kind, payload in SESSION:
        if kind == "send":
            await chat.send(user_id, payload)
        else:
            await chat.press(user_id, payload)
