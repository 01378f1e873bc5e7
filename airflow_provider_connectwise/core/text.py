"""Text helpers the renderers and the mapping share: log-safe lines, previews, tables, UTF-16 lengths.

They depend on nothing but the standard library.
"""

from __future__ import annotations

import math
import textwrap
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "BIDI_CONTROLS",
    "clean_text",
    "cut_utf16",
    "preview",
    "printable",
    "text_table",
    "utf16_length",
]

_ELLIPSIS = "…"

#: Bidirectional formatting characters: invisible, and able to make text read differently from
#: what it holds ("Trojan Source"), so outside text never keeps them.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(value: object, limit: int | None = None) -> str:
    """Return ``value`` as one log-safe line: control and format characters escaped, optionally cut.

    Values shown in task logs come from outside (device names, ConnectWise names); a newline or a
    bidi override in them must not be able to forge or disguise log lines.

    :param value: anything; ``None`` renders as an empty string.
    :param limit: maximum length of the result, ``None`` for no limit.
    """
    text = "" if value is None else str(value)
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Zs":
            out.append(" ")
        elif category in ("Cc", "Cs", "Zl", "Zp") or char in BIDI_CONTROLS:
            out.append(char.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:
            out.append(char)
    result = "".join(out)
    if limit is not None and len(result) > limit:
        result = result[: max(limit - 1, 0)] + _ELLIPSIS
    return result


def preview(value: object, limit: int = 80) -> str:
    """Return an outside value of any type as a short, log-safe ``repr`` (never raises).

    ``repr`` alone can fail or run long on outside data: an integer of more than 4300 digits
    refuses ``str``, a deeply nested list exceeds the recursion limit, a 1 MB string is 1 MB. Text
    is cut before it is shown; containers are described rather than rendered.

    :param value: any value (typically decoded JSON).
    :param limit: maximum length of the result.
    """
    if isinstance(value, str):
        shown = repr(value[: limit + 1])
    elif isinstance(value, bool) or value is None or isinstance(value, float):
        shown = repr(value)
    elif isinstance(value, int):
        digits = int(math.log10(abs(value))) + 1 if value else 1
        shown = repr(value) if digits < limit else f"<a number of {digits} digits>"
    elif isinstance(value, Mapping):
        shown = f"<an object of {len(value)} keys>"
    elif isinstance(value, (list, tuple)):
        shown = f"<a list of {len(value)} items>"
    else:
        shown = f"<{type(value).__name__}>"
    return printable(shown, limit)


def utf16_length(text: str) -> int:
    """Return the length ConnectWise (.NET) sees: UTF-16 code units.

    :param text: any text.
    """
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def cut_utf16(text: str, limit: int) -> str:
    """Return ``text`` cut to at most ``limit`` UTF-16 code units, never splitting a character.

    :param text: any text.
    :param limit: the maximum length in UTF-16 code units.
    """
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index].rstrip()
    return text


def clean_text(text: str) -> str:
    """Return outside text NFC-normalised, single-spaced and trimmed, without control characters.

    Tabs, newlines and other whitespace become one space; other control characters, lone
    surrogates, bidirectional overrides and the byte-order mark are removed (other format
    characters, such as the joiner inside emoji, are kept).

    :param text: the raw text.
    """
    out = []
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if char.isspace() or category in ("Zl", "Zp"):
            out.append(" ")
        elif category in ("Cc", "Cs") or char in BIDI_CONTROLS or char == "\ufeff":
            continue
        else:
            out.append(char)
    return " ".join("".join(out).split())


def text_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    max_widths: Mapping[int, int] | None = None,
    wrap: Iterable[int] = (),
) -> str:
    """Render rows as a plain-text table with a header and a dashed rule.

    :param headers: column titles.
    :param rows: one sequence of cell values per row (rendered with :func:`printable`).
    :param max_widths: column index -> maximum width; longer cells are cut with an ellipsis, or
        wrapped over several lines when the column is listed in ``wrap``.
    :param wrap: indexes of columns whose long cells are wrapped instead of cut (nothing is lost).
    """
    max_widths = dict(max_widths or {})
    wrapped = set(wrap)
    rendered: list[list[list[str]]] = []
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            text = printable(value)
            width = max_widths.get(index)
            if width is None or len(text) <= width:
                cells.append([text])
            elif index in wrapped:
                cells.append(textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False))
            else:
                cells.append([printable(text, width)])
        rendered.append(cells)
    widths = [len(header) for header in headers]
    for cells in rendered:
        for index, lines in enumerate(cells):
            widths[index] = max(widths[index], *(len(line) for line in lines))
    out = [_line(headers, widths), _line(["-" * width for width in widths], widths)]
    for cells in rendered:
        for line_no in range(max(len(lines) for lines in cells)):
            out.append(_line([lines[line_no] if line_no < len(lines) else "" for lines in cells], widths))
    return "\n".join(out)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()
