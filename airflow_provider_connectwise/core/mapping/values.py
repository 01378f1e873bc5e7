"""Fact values -> ConnectWise text: one normaliser per mapped field, and the helpers they share.

A normaliser takes a raw fact value of any JSON type and returns ``(text or None, notes)``. It
raises :class:`FieldError` when the fact holds a value its field cannot take (the field is then
left unwritten, with a warning); it returns ``None`` when the fact says "nothing" (empty text, a
placeholder address), and notes for what a person should know about a value it did write. The
rules for each field are in the ``core.mapping`` docstring.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from airflow_provider_connectwise.core import clean_text, preview
from airflow_provider_connectwise.core.mapping.fields import MAX_LENGTHS

__all__ = [
    "MAX_NUMBER_DIGITS",
    "NORMALISERS",
    "SHOW_LIMIT",
    "FieldError",
    "kind",
    "open_fact",
    "raw_text",
    "show",
]

#: Longest shown form of an outside value inside a message.
SHOW_LIMIT = 80
#: Outside text longer than this is cut before it is cleaned: every field's maximum is far below
#: it, and cleaning a 1 MB value character by character would only cost time.
_MAX_RAW_TEXT = 4096
#: Entries of a list fact (several MAC or IP addresses) looked at; the first valid one wins.
_MAX_LIST_ENTRIES = 64
#: Digits of the longest number read (an integer beyond it is no fact value).
MAX_NUMBER_DIGITS = 40


class FieldError(ValueError):
    """Raised by a normaliser; turned into a warning (or ``DeviceMappingError``) once the device is known."""


def show(value: Any) -> str:
    """Show an outside value inside a message: repr'd, escaped and cut (never raises)."""
    return preview(value, SHOW_LIMIT)


def kind(value: Any) -> str:
    """Name the JSON kind of an outside value for a message ('a boolean', 'a list'...)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


def raw_text(raw: str) -> str:
    """Outside text cut to a bounded length, then cleaned (``core.clean_text``)."""
    return clean_text(raw[:_MAX_RAW_TEXT])


def _scalar_text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw_text(raw)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise FieldError(f"{show(raw)} is {kind(raw)}, not text")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise FieldError(f"{show(raw)} is not a finite number")
    if isinstance(raw, int) and abs(raw) >= 10**MAX_NUMBER_DIGITS:
        raise FieldError(f"{show(raw)} is too long a number to be text")
    return str(raw)


def open_fact(value: Any) -> tuple[Any, str | None]:
    """Return (bare value, error message) of a fact: bare values pass, envelopes are opened."""
    if isinstance(value, Mapping) and ("value" in value or "error_msg" in value):
        error = value.get("error_msg")
        if error is None or error is False or error == "":
            return value.get("value"), None
        text = raw_text(error) if isinstance(error, str) else show(error)
        return None, text or "unknown error"
    return value, None


# --- field normalisers: raw fact value -> (ConnectWise text or None, notes) ----------------------


def _normalise_text(raw: Any) -> tuple[str | None, list[str]]:
    return _scalar_text(raw) or None, []


def _address_tokens(raw: Any, separators: str) -> list[str]:
    """Split a fact into the addresses it reports: list entries, then ``separators``."""
    items = list(raw[:_MAX_LIST_ENTRIES]) if isinstance(raw, (list, tuple)) else [raw]
    out: list[str] = []
    for item in items:
        if item is None:
            continue
        if not isinstance(item, str):
            raise FieldError(f"{show(raw)} holds {kind(item)}, not text")
        out.extend(part for part in re.split(separators, raw_text(item)) if part.strip())
    return out


def _several(count: int) -> list[str]:
    return [f"{count} addresses reported; the first valid one is written"] if count > 1 else []


_MAC_GROUPS = re.compile(r"[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(?:\1[0-9a-f]{1,2}){4}", re.ASCII | re.IGNORECASE)
_MAC_DOTTED = re.compile(r"[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}", re.ASCII | re.IGNORECASE)
_MAC_BARE = re.compile(r"[0-9a-f]{12}", re.ASCII | re.IGNORECASE)
_ZERO_MAC = "00:00:00:00:00:00"


def _parse_mac(text: str) -> str | None:
    """Return ``AA:BB:CC:DD:EE:FF`` (all zeros for the placeholder), ``None`` when not a MAC."""
    text = "".join(text.split())
    if _MAC_GROUPS.fullmatch(text):
        digits = "".join(group.zfill(2) for group in re.split(r"[:-]", text))
    elif _MAC_DOTTED.fullmatch(text):
        digits = text.replace(".", "")
    elif _MAC_BARE.fullmatch(text):
        digits = text
    else:
        return None
    digits = digits.upper()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _normalise_mac(raw: Any) -> tuple[str | None, list[str]]:
    macs: list[str | None] = []
    for candidate in _address_tokens(raw, r"[,;]"):
        whole = _parse_mac(candidate)
        # "aa:bb:… 11:22:…": several addresses separated by spaces only.
        macs.extend([whole] if whole else [_parse_mac(part) for part in candidate.split()])
    reported = [mac for mac in macs if mac != _ZERO_MAC]  # all zeros is a placeholder, not an address
    valid = [mac for mac in reported if mac]
    if valid:
        return valid[0], _several(len(reported))
    if reported:
        raise FieldError(f"{show(raw)} is not a MAC address")
    if macs:
        raise FieldError(f"{show(raw)} is a placeholder, not a MAC address")
    return None, []


def _normalise_ip(raw: Any) -> tuple[str | None, list[str]]:
    reported: list[str | None] = []
    for candidate in _address_tokens(raw, r"[,;\s]+"):
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            reported.append(None)
            continue
        if not address.is_unspecified:  # 0.0.0.0 and :: mean "no address"
            text = str(address)
            reported.append(text if len(text) <= MAX_LENGTHS["ipAddress"] else None)
    valid = [ip for ip in reported if ip]
    if valid:
        return valid[0], _several(len(reported))
    if reported:
        raise FieldError(f"{show(raw)} is not an IP address")
    return None, []


def _number_and_unit(raw: Any, units: str) -> tuple[Decimal, str | None]:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise FieldError(f"{show(raw)} is {kind(raw)}, not a number")
    if isinstance(raw, int):
        if abs(raw) >= 10**MAX_NUMBER_DIGITS:
            raise FieldError(f"{show(raw)} is not a plausible number")
        return Decimal(raw), None
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise FieldError(f"{show(raw)} is not a finite number")
        return Decimal(repr(raw)), None
    text = raw_text(raw)
    number = rf"([0-9]{{1,{MAX_NUMBER_DIGITS}}}(?:[.,][0-9]{{1,{MAX_NUMBER_DIGITS}}})?)"
    match = re.fullmatch(rf"{number}\s*({units})?", text, re.ASCII | re.IGNORECASE)
    if match is None:
        # A processor name such as "Intel(R) Core(TM) i7-9750H CPU @ 2.60GHz".
        # The lookbehind keeps a number from starting mid-token: "-1 GHz" is not 1 GHz.
        match = re.search(rf"(?<![-\w.,]){number}\s*({units})\b", text, re.ASCII | re.IGNORECASE)
    if match is None:
        raise FieldError(f"{show(raw)} is not a number")
    return Decimal(match.group(1).replace(",", ".")), (match.group(2) or "").lower() or None


def _compact(value: Decimal, places: str, low: Decimal, high: Decimal, what: str, raw: Any) -> str:
    """Round ``value`` to ``places``; refuse what is not in ``(low, high]`` once rounded."""
    # Bounded first: quantize() of a number with more digits than the context holds raises.
    if not low < value <= high:
        raise FieldError(f"{show(raw)} is not a plausible {what}")
    rounded = value.quantize(Decimal(places), rounding=ROUND_HALF_UP).normalize()
    if rounded <= low:
        raise FieldError(f"{show(raw)} is not a plausible {what}")
    return format(rounded, "f")


def _normalise_cpu_speed(raw: Any) -> tuple[str | None, list[str]]:
    if isinstance(raw, str) and not raw_text(raw):
        return None, []
    value, unit = _number_and_unit(raw, "ghz|mhz|hz")
    if unit is None:
        unit = "hz" if value >= 1_000_000 else "mhz" if value > 100 else "ghz"
    ghz = value / {"ghz": 1, "mhz": 1000, "hz": 1_000_000_000}[unit]
    return _compact(ghz, "0.01", Decimal(0), Decimal(1000), "processor speed", raw), []


_RAM_FACTORS = {
    "b": Decimal(1) / 2**30,
    "bytes": Decimal(1) / 2**30,
    "k": Decimal(1) / 2**20,
    "kb": Decimal(1) / 2**20,
    "kib": Decimal(1) / 2**20,
    "m": Decimal(1) / 1024,
    "mb": Decimal(1) / 1024,
    "mib": Decimal(1) / 1024,
    "g": Decimal(1),
    "gb": Decimal(1),
    "gib": Decimal(1),
    "t": Decimal(1024),
    "tb": Decimal(1024),
    "tib": Decimal(1024),
}


def _normalise_ram(raw: Any) -> tuple[str | None, list[str]]:
    if isinstance(raw, str) and not raw_text(raw):
        return None, []
    value, unit = _number_and_unit(raw, "bytes|kib|mib|gib|tib|kb|mb|gb|tb|b|k|m|g|t")
    if unit is None:
        unit = "b" if value >= 2**20 else "gb"
    # At most a petabyte: anything larger is a unit mix-up, not memory.
    return _compact(value * _RAM_FACTORS[unit], "0.1", Decimal(0), Decimal(2**20), "memory size", raw), []


NORMALISERS: Mapping[str, Callable[[Any], tuple[str | None, list[str]]]] = MappingProxyType(
    {
        "name": _normalise_text,
        "serialNumber": _normalise_text,
        "macAddress": _normalise_mac,
        "ipAddress": _normalise_ip,
        "osType": _normalise_text,
        "osInfo": _normalise_text,
        "cpuSpeed": _normalise_cpu_speed,
        "ram": _normalise_ram,
        "lastLoginName": _normalise_text,
    }
)
