"""What an organiser types for a lobby day, read as supporters and X will read it."""

from __future__ import annotations

import pytest

from bot.lobby import LobbyInputError, clean_hashtag
from bot.mps import x_post_url


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("masslobby", "#masslobby"),
        (" #MassLobby ", "#MassLobby"),
        ("#mass_lobby", "#mass_lobby"),
        ("#DíaDeLobby", "#DíaDeLobby"),
        ("#LobbyEmMassa2026", "#LobbyEmMassa2026"),
    ],
)
def test_one_hashtag_is_kept_as_x_reads_it(typed, kept):
    assert clean_hashtag(typed) == kept


@pytest.mark.parametrize("typed", ["#mass lobby", "##masslobby", "#2026", "#lobby-day", "", "#"])
def test_anything_but_one_hashtag_is_refused(typed):
    with pytest.raises(LobbyInputError):
        clean_hashtag(typed)


def test_an_accented_hashtag_reaches_x_intact():
    url = x_post_url("I'm meeting my MP", [clean_hashtag("#DíaDeLobby")])
    assert "hashtags=D%C3%ADaDeLobby" in url
