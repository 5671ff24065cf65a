"""What the MP and lobby journeys' tests share: the fake lookups put under a running bot, a
supporter past onboarding, reading what the bot handed over, the database files' bytes, and
arbitrary text for the free-text steps (X3)."""

from __future__ import annotations

import html

import hypothesis
from hypothesis import HealthCheck
from hypothesis import strategies as st

from messages import consent
from tests.support.harness import tags_in
from tests.support.parliament import FakeServices, client

# Tags our own catalogs never use: one of them in the output can only have come from the input.
FOREIGN_TAGS = ("u", "s", "script", "tg-spoiler", "zz")


async def use_services(chat, services: FakeServices) -> FakeServices:
    """Put fake postcodes.io and Members API under the running bot."""
    await chat.app.bot_data.http.aclose()
    chat.app.bot_data.http = client(services)
    return services


async def onboard(chat, uid: int, language_code: str = "en") -> None:
    """A supporter who has started the bot and said no to messages."""
    await chat.send(uid, "/start", language_code)
    await chat.press(uid, consent.OPTIN_NONE, language_code)


def url_buttons(chat, uid: int) -> dict[str, str]:
    """Text -> link of the link buttons on the latest message to `uid` that had buttons."""
    return {button["text"]: button["url"] for button in chat.buttons(uid) if "url" in button}


def letter_in(calls) -> str:
    """The letter as the supporter copies it: the text of the <pre> blocks, in order."""
    blocks = [call.text for call in calls if call.text.startswith("<pre>")]
    return "".join(
        html.unescape(block.removeprefix("<pre>").removesuffix("</pre>")) for block in blocks
    )


def stored_bytes(settings) -> bytes:
    """The database and its -wal and -shm files, as bytes."""
    path = settings.database_path
    return b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*"))


arbitrary_text = st.one_of(
    st.text(max_size=300),
    st.text(max_size=40).map(lambda s: f"{s}<u>x</u><script>{s}</script>"),
    st.text(min_size=1, max_size=5).map(lambda s: (s + "<zz>🙂&") * (10_000 // (len(s) + 5))),
)
PROPERTY = hypothesis.settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_safe_helpful_answer(replies) -> None:
    """Every reply answers, none is the error handler's apology, and no tag came from input."""
    texts = [call.text for call in replies if call.text]
    assert texts, "no answer"
    for sent in texts:
        assert "something went wrong" not in sent
        assert not set(FOREIGN_TAGS) & tags_in(sent)


async def every_button(
    chat, uid: int, avoid: tuple[str, ...] = (), limit: int = 150, pressed_ago: float = 0.0
) -> set[str]:
    """The callback data of every button a supporter meets by tapping alone, from the menu on
    (each pressed once, `pressed_ago` seconds before it is handled, except those in `avoid`):
    what a stale or replayed press can carry."""
    seen: set[str] = set()
    pressed: set[str] = set()
    for _ in range(limit):
        for _message_id, buttons in chat.api.keyboards(uid):
            seen.update(button["callback_data"] for button in buttons if "callback_data" in button)
        waiting = sorted(seen - pressed - set(avoid))
        if not waiting:
            break
        pressed.add(waiting[0])
        await chat.press(uid, waiting[0], pressed_ago=pressed_ago)
    return seen
