"""How field names are compared where a person, not a program, wrote them: case, spaces and
separators ignored, so that `Contact_Email`, `contact-email` and `CONTACT EMAIL` all name the
contract's `contact_email`. Used to keep personal fields out of what is stored and echoed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_SEPARATORS = re.compile(r"[\W_]+")


@lru_cache(maxsize=4096)
def field_key(name: str) -> str:
    """The name in lower case without spaces or separators."""
    return _SEPARATORS.sub("", name.casefold())


def matching_names(names: Iterable[str], wanted: Iterable[str]) -> set[str]:
    """The names (as written) that name one of `wanted` once case and separators are ignored."""
    keys = {field_key(name) for name in wanted}
    return {name for name in names if field_key(name) in keys} if keys else set()
