from __future__ import annotations

import pytest

from airflow_provider_connectwise.core import printable, text_table


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        (None, ""),
        (12, "12"),
        ("two\nlines", "two\\nlines"),
        ("tab\there", "tab\\there"),
        ("rtl\u202eoverride", "rtl\\u202eoverride"),
        ("nbsp\u00a0space", "nbsp space"),
        ("emoji 👩‍💻", "emoji 👩‍💻"),
    ],
)
def test_printable_escapes_what_could_forge_or_hide_log_lines(value, expected):
    assert printable(value) == expected


def test_printable_cuts_with_an_ellipsis():
    assert printable("abcdef", 4) == "abc…"
    assert printable("abc", 4) == "abc"


def test_text_table_cuts_and_wraps():
    table = text_table(["name", "error"], [["a" * 30, "word " * 10]], max_widths={0: 10, 1: 20}, wrap=[1])
    lines = table.splitlines()
    assert lines[0].split() == ["name", "error"]
    assert lines[2].startswith("aaaaaaaaa…")
    assert len(lines) == 5  # header, rule, three wrapped lines of the error
    assert " ".join(
        " ".join(line.split()[1:]) if i == 0 else line.strip() for i, line in enumerate(lines[2:])
    ) == ("word word word word word word word word word word")
