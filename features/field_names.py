"""How field names are compared where a person, not a program, wrote them: case, spaces and
separators ignored (and Unicode's compatible spellings made one), so that `Contact_Email`,
`contact-email` and `CONTACT EMAIL` all name the contract's `contact_email`. Used to keep personal
fields out of what is stored and echoed, and to point at a column a model's field was meant to
be."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_SEPARATORS = re.compile(r"[\W_]+")


@lru_cache(maxsize=4096)
def field_key(name: str) -> str:
    """The name in lower case without spaces or separators ('Café' typed with a combining
    accent is the same name as with 'é')."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", name).casefold())


def matching_names(names: Iterable[str], wanted: Iterable[str]) -> set[str]:
    """The names (as written) that name one of `wanted` once case and separators are ignored."""
    keys = {field_key(name) for name in wanted}
    return {name for name in names if field_key(name) in keys} if keys else set()


def near_misses(wanted: Iterable[str], names: Iterable[str]) -> dict[str, str]:
    """Each of `wanted` that is not among `names` but that one of them names once case,
    separators and Unicode spelling are ignored: {wanted: the name as written}."""
    written = {field_key(name): name for name in names}
    return {
        name: written[field_key(name)]
        for name in wanted
        if field_key(name) in written and written[field_key(name)] != name
    }
