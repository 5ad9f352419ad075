"""The lead contract: which column is what in a company's export.

It is read from a TOML file and/or CLI flags; a flag wins over the file. Everything the model
needs to know about the export lives here and is frozen into the model artifact.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from features.errors import ContractError

KINDS = ("categorical", "numeric", "boolean", "datetime")
# Without a created-at column, how the leads are ordered in time: by their row in the file, or by
# increasing id. The split then holds out the newest leads, as it does with a created-at column.
ORDERS = ("file", "id")


@dataclass(frozen=True)
class RelatedTable:
    """A table joined onto the leads: its rows are looked up by `on` (a column of the leads)
    matching `key` (a column of this table); `mapping` rewrites lead values that are spelled
    differently in this table (e.g. 'GTXPro' -> 'GTX Pro')."""

    name: str
    path: str
    on: str
    key: str
    mapping: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "on": self.on, "key": self.key, "map": dict(self.mapping)}

    @classmethod
    def from_dict(cls, name: str, data: Any, source: str, folder: Path | None) -> RelatedTable:
        if not isinstance(data, dict) or not data.get("path") or not data.get("on"):
            raise ContractError(
                f"{source}: table '{name}' needs at least path and on, e.g. "
                f'[tables.{name}] path = "{name}.csv" on = "{name}_id"'
            )
        unknown = sorted(set(data) - {"path", "on", "key", "map"})
        if unknown:
            raise ContractError(
                f"{source}: table '{name}' has unknown key(s) {unknown}; known keys are "
                "['key', 'map', 'on', 'path']"
            )
        mapping = data.get("map", {})
        if not isinstance(mapping, dict):
            raise ContractError(f"{source}: 'map' of table '{name}' must be a table of old = new")
        path = Path(str(data["path"]))
        if folder is not None and not path.is_absolute():
            path = folder / path
        return cls(
            name=name,
            path=str(path),
            on=str(data["on"]),
            key=str(data.get("key", data["on"])),
            mapping={str(k): str(v) for k, v in mapping.items()},
        )


@dataclass(frozen=True)
class LeadContract:
    """Column roles of one export. Only `target` and `positive` are required to train."""

    target: str | None = None
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    open: tuple[str, ...] = ()
    id: str | None = None
    time: str | None = None
    order: str | None = None
    value: str | None = None
    loss_reason: str | None = None
    drop: tuple[str, ...] = ()
    pii: tuple[str, ...] = ()
    na_values: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    kinds: dict[str, str] = field(default_factory=dict)
    tables: tuple[RelatedTable, ...] = ()
    segments: tuple[str, ...] = ()
    fit: tuple[str, ...] = ()
    engagement: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        both = sorted(set(self.fit) & set(self.engagement))
        if both:
            raise ContractError(
                f"{both} listed under both fit and engagement; a field is either who the lead "
                "is (fit) or what it did (engagement)"
            )
        for column, kind in self.kinds.items():
            if kind not in KINDS:
                raise ContractError(
                    f"kind of column '{column}' is '{kind}'; use one of: {', '.join(KINDS)}"
                )
        if self.order is not None and self.order not in ORDERS:
            raise ContractError(
                f"order is '{self.order}'; use \"file\" (the rows are in the order the leads "
                'were created) or "id" (ids increase as leads are created)'
            )
        if self.order == "id" and not self.id:
            raise ContractError('order = "id" needs the id column: give id = "COLUMN" too')

    @property
    def excluded_columns(self) -> set[str]:
        """Columns that are never features: roles that are not lead attributes, drop and PII."""
        roles = {self.id, self.target, self.time, self.value, self.loss_reason}
        return {c for c in roles if c} | set(self.drop) | set(self.pii)

    def columns_by_role(self) -> dict[str, list[str]]:
        """Every column the contract names, by the role it names it for."""
        named: dict[str, list[str | None]] = {
            "target": [self.target],
            "id": [self.id],
            "time": [self.time],
            "value": [self.value],
            "loss_reason": [self.loss_reason],
            "drop": list(self.drop),
            "pii": list(self.pii),
            "kinds": list(self.kinds),
        }
        return {role: [c for c in columns if c] for role, columns in named.items()}

    def named_columns(self) -> list[str]:
        return [c for columns in self.columns_by_role().values() for c in columns]

    def require_training_roles(self) -> None:
        """Training needs to know the outcome column and what counts as won."""
        if not self.target:
            raise ContractError(
                "no outcome column: give --target COLUMN or 'target = \"COLUMN\"' in the contract"
            )
        if not self.positive:
            raise ContractError(
                "no label means 'won': give --positive LABEL (repeatable) or "
                "'positive = [\"won\"]' in the contract"
            )
        overlap = label_set(self.positive) & (label_set(self.negative) | label_set(self.open))
        if overlap:
            raise ContractError(
                f"labels {sorted(overlap)} are listed as positive and also as negative or open; "
                "each label may have one meaning"
            )
        self._check_one_role_per_column()

    def _check_one_role_per_column(self) -> None:
        """The outcome, id, created-at, deal value and loss reason are five different columns,
        and the outcome is never dropped: a column given two of these roles would be read as
        both (an outcome read as lead ids, say)."""
        roles: dict[str, list[str]] = {}
        singles = ("target", "id", "time", "value", "loss_reason")
        for role in singles:
            column = getattr(self, role)
            if column:
                roles.setdefault(column, []).append(role)
        for role in ("drop", "pii"):
            if self.target and self.target in getattr(self, role):
                roles[self.target].append(role)
        for column, named in roles.items():
            if len(named) > 1:
                raise ContractError(
                    f"column '{column}' is given as {' and as '.join(named)}; give each of "
                    f"{', '.join(singles)} a column of its own, and never drop the outcome"
                )

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "tables"}
        data = {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}
        if self.tables:
            data["tables"] = {t.name: t.to_dict() for t in self.tables}
        return data

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], source: str = "contract", folder: Path | None = None
    ) -> LeadContract:
        """`folder`: where relative table paths start (the contract file's folder)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ContractError(
                f"{source}: unknown key(s) {unknown}; known keys are {sorted(known)}"
            )
        values: dict[str, Any] = {}
        for key, raw in data.items():
            if key == "tables":
                if not isinstance(raw, dict):
                    raise ContractError(f"{source}: 'tables' must be tables like [tables.accounts]")
                values[key] = tuple(
                    RelatedTable.from_dict(str(n), t, source, folder) for n, t in raw.items()
                )
            elif key == "kinds":
                if not isinstance(raw, dict):
                    raise ContractError(f"{source}: 'kinds' must be a table of column = kind")
                values[key] = {str(k): str(v) for k, v in raw.items()}
            elif isinstance(raw, list):
                values[key] = tuple(str(v) for v in raw)
            elif key in _LIST_KEYS:
                values[key] = (str(raw),)
            else:
                values[key] = None if raw is None else str(raw)
        return cls(**values)


def label_set(labels: tuple[str, ...]) -> set[str]:
    """Outcome labels as they are compared: without regard to case or surrounding spaces."""
    return {label.strip().casefold() for label in labels}


_LIST_KEYS = {
    "positive",
    "negative",
    "open",
    "drop",
    "pii",
    "na_values",
    "keep",
    "segments",
    "fit",
    "engagement",
}


def load_contract(path: Path | None, overrides: dict[str, Any] | None = None) -> LeadContract:
    """Read the TOML contract (if any) and apply the flags the user gave on top of it."""
    data: dict[str, Any] = {}
    if path is not None:
        data = _read_toml(path)
    for key, value in (overrides or {}).items():
        if value in (None, (), [], {}):
            continue
        if key == "kinds":
            data["kinds"] = {**data.get("kinds", {}), **value}
        else:
            data[key] = value
    return LeadContract.from_dict(
        data, source=str(path) if path else "flags", folder=path.parent if path else None
    )


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ContractError(f"contract file {path} does not exist; check the --config path")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ContractError(f"contract file {path} is not valid TOML: {exc}") from exc


def parse_kind_overrides(pairs: list[str]) -> dict[str, str]:
    """Turn repeated `--kind COLUMN=KIND` flags into a mapping."""
    kinds: dict[str, str] = {}
    for pair in pairs:
        column, sep, kind = pair.partition("=")
        if not sep or not column or not kind:
            raise ContractError(f"--kind '{pair}' must look like COLUMN=KIND, e.g. visits=numeric")
        kinds[column.strip()] = kind.strip()
    return kinds
