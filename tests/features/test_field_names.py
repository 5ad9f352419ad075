"""Field names compared as a person wrote them: case, separators and Unicode spelling ignored."""

import unicodedata

from features.field_names import field_key, near_misses


def test_an_accent_written_as_a_combining_mark_is_the_same_name():
    composed, decomposed = "Café", unicodedata.normalize("NFD", "Café")
    assert composed != decomposed
    assert field_key(composed) == field_key(decomposed) == "café"


def test_near_misses_name_only_absent_fields_written_otherwise():
    columns = ["Lead Source", "web_visits", "INDUSTRY-CODE", "country"]
    wanted = ["lead_source", "web_visits", "industry_code", "region"]
    assert near_misses(wanted, columns) == {
        "lead_source": "Lead Source",
        "industry_code": "INDUSTRY-CODE",
    }
