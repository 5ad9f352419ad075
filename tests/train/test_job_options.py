"""The options `train` and `retrain` share, as one value: the contract they make (flags on top of
the TOML file) and the training options they parse; and both commands offer every one of them."""

import dataclasses

import pytest
import typer
from typer.testing import CliRunner

from features.demo import CONTRACT_TOML
from features.errors import ContractError, SettingError
from leadscore_cli import app
from train.job_options import JobOptions, TrainingOptions


def test_flags_win_over_the_contract_file_and_kinds_are_parsed(tmp_path):
    path = tmp_path / "leads.toml"
    path.write_text(CONTRACT_TOML)
    options = JobOptions(
        config=path,
        target="stage",
        positive=["closed-won"],
        kind=["web_visits=numeric"],
        keep_column=["country"],
    )
    contract = options.contract()
    assert (contract.target, contract.positive) == ("stage", ("closed-won",))
    assert contract.id == "lead_id" and contract.na_values == ("Select", "-1")
    assert contract.kinds == {"web_visits": "numeric"} and contract.keep == ("country",)


def test_a_kind_flag_without_a_kind_is_refused():
    with pytest.raises(ContractError, match="--kind 'visits' must look like COLUMN=KIND"):
        JobOptions(target="outcome", positive=["won"], kind=["visits"]).contract()


def test_training_options_parse_the_tier_cutoffs():
    options = JobOptions(tier_cutoffs=" 70, 40,20", model_name="m", tune_seconds=2.5)
    assert options.training() == TrainingOptions(
        model_name="m", tier_cutoffs=(70, 40, 20), tune_seconds=2.5
    )
    assert JobOptions().training() == TrainingOptions()


@pytest.mark.parametrize("text", ["70,40", "70,40,x", "70;40;20", "-1,40,20"])
def test_tier_cutoffs_that_are_not_three_scores_are_refused(text):
    with pytest.raises(SettingError, match="--tier-cutoffs .* must be three scores A,B,C"):
        JobOptions(tier_cutoffs=text).training()


@pytest.mark.parametrize("command", ["train", "retrain"])
def test_train_and_retrain_offer_every_shared_option(command):
    params = {p.name: p for p in typer.main.get_command(app).commands[command].params}
    for field in dataclasses.fields(JobOptions):
        assert field.name in params, field.name
        assert params[field.name].default == field.default, field.name
    assert params["id"].opts == ["--id"] and params["keep_column"].opts == ["--keep-column"]
    refused = CliRunner().invoke(app, [command, "leads.csv", "--tune-seconds", "-1"])
    assert refused.exit_code == 2 and "--tune-seconds" in refused.stderr
