"""The windows and limits of the live questions (performance, stalled leads), with the bounds
the API and the CLI both hold them to: beyond a bound a request is a typo, not a question. Kept
apart from the queries so the CLI reads them without loading the store."""

DEFAULT_WINDOW_DAYS = 90
MAX_WINDOW_DAYS = 3650
DEFAULT_STALL_FACTOR = 2.0
MAX_STALL_FACTOR = 1000
MAX_STALLED_DAYS = 36500
DEFAULT_STALLED_LIMIT = 500
MAX_STALLED_LIMIT = 100_000
