"""User-facing failures: each message names the file, column, row or setting and says how to fix it.

The CLI prints these in one line and exits 2; anything else is a bug and keeps its traceback.
"""


class LeadscoreError(Exception):
    """Something the user can fix: bad input, a bad setting, a missing file."""

    exit_code = 2


class ContractError(LeadscoreError):
    """The lead contract (TOML file or flags) is incomplete or contradicts itself."""


class DataError(LeadscoreError):
    """An export cannot be read, or does not fit the contract."""


class FieldValueError(LeadscoreError):
    """One value of one lead cannot be read as its field's kind (e.g. text in a numeric field)."""

    def __init__(self, field: str, value: object, kind: str) -> None:
        self.field = field
        self.value = value
        self.kind = kind
        super().__init__(f"field '{field}' must be {kind}, got {value!r}")


class InvalidLeadsError(LeadscoreError):
    """Some leads of a batch have values of the wrong type; `problems` lists each one."""

    def __init__(self, problems: list[tuple[int, FieldValueError]]) -> None:
        self.problems = problems
        first_index, first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"lead {first_index}: {first}{more}")


class SettingError(LeadscoreError):
    """An option or `LEADSCORE_*` setting is missing, malformed, unsafe or cannot work (e.g.
    tier cut-offs out of order, API keys missing on a public host)."""
