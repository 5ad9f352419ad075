"""What `leadscore train` and `leadscore retrain` are told besides the data, as typed values: the
lead contract (a TOML file, with flags that win over it) and how to train and register.

`JobOptions` is the one declaration of the options both commands share: the command line
offers one option per field, under the field's name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from features.contract import LeadContract, load_contract, parse_kind_overrides
from features.errors import SettingError

MODEL_NAME_MARKS = ("/", ":", "@")


@dataclass(frozen=True)
class TrainingOptions:
    """Everything about a training run that is not the contract."""

    model_name: str = "leadscore"
    experiment: str = "leadscore"
    tier_cutoffs: tuple[int, int, int] | None = None
    capacity: int | None = None
    tune_seconds: float = 0
    report_json: Path | None = None

    def __post_init__(self) -> None:
        if not self.model_name.strip(" .") or any(m in self.model_name for m in MODEL_NAME_MARKS):
            raise SettingError(
                f"--model-name {self.model_name!r}: a registered model's name cannot be empty "
                "or dots, or hold '/', ':' or '@' (the model URI models:/NAME@ALIAS uses "
                "them); e.g. --model-name leadscore-emea"
            )
        if self.capacity is not None and self.capacity <= 0:
            raise SettingError(
                f"--capacity {self.capacity}: give the leads sales can work per week (1 or more)"
            )
        if self.report_json is not None:
            check_report_path(self.report_json)


def check_report_path(path: Path) -> None:
    """`--report-json` must be a file that can be written, checked before training: the
    report is written after the version is registered."""
    if path.is_dir():
        raise SettingError(
            f"--report-json {path}: is a folder; give a file name, e.g. {path / 'report.json'}"
        )
    existing = next(folder for folder in path.absolute().parents if folder.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise SettingError(
            f"--report-json {path}: cannot be written, because {existing} is "
            f"{'a file' if not existing.is_dir() else 'a folder this user cannot write to'}; "
            "give a path in a folder you can write to"
        )


@dataclass(frozen=True)
class JobOptions:
    """The contract file and flags, and the training options, as the command line gives them."""

    config: Path | None = None
    id: str | None = None
    target: str | None = None
    positive: list[str] | None = None
    negative: list[str] | None = None
    open: list[str] | None = None
    time: str | None = None
    value: str | None = None
    loss_reason: str | None = None
    drop: list[str] | None = None
    pii: list[str] | None = None
    na_values: list[str] | None = None
    kind: list[str] | None = None
    keep_column: list[str] | None = None
    tier_cutoffs: str | None = None
    capacity: int | None = None
    tune_seconds: float = 0
    model_name: str = "leadscore"
    experiment: str = "leadscore"
    report_json: Path | None = None

    def contract(self) -> LeadContract:
        """The TOML contract (if any) with the flags applied on top of it."""
        return load_contract(
            self.config,
            {
                "id": self.id,
                "target": self.target,
                "positive": self.positive,
                "negative": self.negative,
                "open": self.open,
                "time": self.time,
                "value": self.value,
                "loss_reason": self.loss_reason,
                "drop": self.drop,
                "pii": self.pii,
                "na_values": self.na_values,
                "keep": self.keep_column,
                "kinds": parse_kind_overrides(self.kind or []),
            },
        )

    def training(self) -> TrainingOptions:
        return TrainingOptions(
            model_name=self.model_name,
            experiment=self.experiment,
            tier_cutoffs=parse_cutoffs(self.tier_cutoffs),
            capacity=self.capacity,
            tune_seconds=self.tune_seconds,
            report_json=self.report_json,
        )


def parse_cutoffs(text: str | None) -> tuple[int, int, int] | None:
    """`--tier-cutoffs 70,40,20` as three scores; whether they fall from A to C is checked where
    the tiers are made."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise SettingError(
            f"--tier-cutoffs {text!r} must be three scores A,B,C from 0 to 100, e.g. 70,40,20"
        )
    return (int(parts[0]), int(parts[1]), int(parts[2]))
