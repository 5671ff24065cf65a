from __future__ import annotations

import datetime as dt
import tomllib

import pytest
import tomli_w

from bot.campaign import CampaignError, load_campaign
from bot.config import DEFAULT_CAMPAIGN_FILE


@pytest.fixture
def shipped() -> dict:
    return tomllib.loads(DEFAULT_CAMPAIGN_FILE.read_text(encoding="utf-8"))


def write(tmp_path, data: dict):
    path = tmp_path / "campaign.toml"
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


def test_shipped_campaign_is_step_up_migrant_women():
    campaign = load_campaign(DEFAULT_CAMPAIGN_FILE)
    assert campaign.start_date == dt.date(2026, 11, 25)
    assert campaign.end_date == dt.date(2026, 12, 10)
    assert campaign.total_days == 16
    assert {"16Days", "StepUpMigrantWomen"} <= set(campaign.hashtags)
    assert "EC2A 3EA" in campaign.solidarity.address
    assert "New Inn Yard" in campaign.solidarity.address
    assert campaign.solidarity.suggested_message("en").startswith("We support equal rights")
    phones = {line.phone for line in campaign.support_lines}
    assert {"0808 2000 247", "999"} <= phones
    assert "stepupmigrantwomen.org" in str(campaign.petition_url)


def test_every_day_has_a_prompt_carrying_the_hashtags_in_three_languages():
    campaign = load_campaign(DEFAULT_CAMPAIGN_FILE)
    for day in range(1, 17):
        prompt = campaign.prompt_for_day(day)
        assert prompt.text("en") and prompt.text("pt") and prompt.text("es")
    assert campaign.day_number(dt.date(2026, 11, 24)) is None
    assert campaign.day_number(dt.date(2026, 11, 25)) == 1
    assert campaign.day_number(dt.date(2026, 12, 10)) == 16
    assert campaign.day_number(dt.date(2026, 12, 11)) is None


def test_missing_translation_names_the_field(tmp_path, shipped):
    del shipped["petition_ask"]["pt"]
    with pytest.raises(CampaignError) as error:
        load_campaign(write(tmp_path, shipped))
    assert "petition_ask.pt" in str(error.value)
    assert "campaign.toml" in str(error.value)


def test_a_missing_daily_prompt_is_refused(tmp_path, shipped):
    shipped["daily_prompts"] = shipped["daily_prompts"][:-1]
    with pytest.raises(CampaignError, match="exactly one prompt for each day"):
        load_campaign(write(tmp_path, shipped))


def test_unknown_letter_placeholder_is_refused(tmp_path, shipped):
    shipped["mp_letter"]["body"]["es"] += " {postcode}"
    with pytest.raises(CampaignError, match="postcode"):
        load_campaign(write(tmp_path, shipped))


def test_not_toml_is_refused_with_the_file_named(tmp_path):
    path = tmp_path / "campaign.toml"
    path.write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(CampaignError, match="not valid TOML"):
        load_campaign(path)
