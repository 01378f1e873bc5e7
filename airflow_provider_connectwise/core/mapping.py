"""MDM device facts -> ConnectWise configuration fields (the seed's field table), normalised.

A device record is the JSON-safe dict of ``docs/design.md``::

    {"agentid": "5f1c…", "policy_id": "pol-1",          # or "policy_ids": ["pol-1", ...]
     "facts": {"device_name": "Ann's MacBook",         # a bare value, or Addigy's envelope:
               "serial_number": {"value": "C02…", "type": "string", "error_msg": null}}}

Every value in it comes from outside, of any JSON type. :func:`map_device` returns a
:class:`MappedDevice` or raises :class:`DeviceMappingError` naming the device (name and agent id)
and the field -- nothing else, whatever the facts hold.

Decisions:

- A device fails only when it cannot have a configuration: the record is not an object, its agent
  id is unusable, its policy ids are unreadable. ``deviceIdentifier`` is the agent id and
  ``managementLink`` the rendered template, always; they identify the device and mark the
  configuration as ours, so they are never cut or cleaned: an agent id that is empty, not text,
  holds control characters or is longer than 100 characters is an error rather than a silently
  different identity (surrounding spaces are trimmed).
- A fact that cannot be normalised (a MAC address that is not one, a boolean where text is
  expected, RAM of 40 digits, NaN) leaves that one field unwritten, with a warning naming the field
  and the value (``macAddress: 'zz:zz' is not a MAC address (fact ...); not written``); the device
  is still mapped. ``facts`` that are not an object read as no facts, with a warning.
- A missing fact, ``null``, or a value that is empty after cleaning leaves the field out: the
  configuration keeps what it has (nothing is ever cleared); a missing serial number says so in a
  warning. A fact carrying ``error_msg`` is also left out, with a warning naming the fact and the
  message.
- Text is NFC-normalised; tabs, newlines and other whitespace become one space, runs of
  whitespace collapse, the ends are trimmed; other control characters, lone surrogates and
  bidirectional overrides are removed (other format characters, such as the joiner inside emoji,
  are kept). Quotes, backslashes and ``*`` are data and are kept. Text beyond 4096 characters is
  cut before cleaning (every maximum is far below it).
- Lengths are ConnectWise's maximums counted in UTF-16 code units (ConnectWise is a .NET
  application), so an emoji counts two; cutting never splits a character and adds a warning.
- MAC: ``aa:bb:cc:dd:ee:ff``, ``aa-bb-…`` (one or two digits per group), ``aabb.ccdd.eeff`` and
  ``aabbccddeeff``, spaces ignored, several in a list or separated by ``,`` ``;`` or spaces -> the
  first valid one as ``AA:BB:CC:DD:EE:FF``, with a warning when several were reported.
  ``00:00:00:00:00:00`` is a placeholder, not an address.
- IP: IPv4 or IPv6 (with a zone, ``fe80::1%en0``), several in a list or separated by commas or
  spaces -> the first valid one in its compressed form (warned about as for MACs). ``0.0.0.0``/``::``
  mean "no address" and are skipped.
- cpuSpeed in GHz, at most two decimals: ``2.3``, ``"2.3 GHz"``, ``"2300 MHz"``, a bare number
  above 100 is MHz and one above 1,000,000 is Hz; a processor name such as ``"… @ 2.60GHz"`` is
  read too. A decimal comma is accepted. Above 1000 GHz, zero or negative is not a speed.
- ram in GB (binary units: 1 GB = 1024 MB), one decimal when needed: ``"16 GB"``, ``"16384 MB"``,
  ``"17179869184"`` (a bare number of 1,048,576 or more is bytes, below it GB), ``16``. Above a
  petabyte, zero or negative is not a memory size.
- A device without a usable name is named after its serial number, else its agent id, with a
  warning (ConnectWise requires ``name``).
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit

from airflow_provider_connectwise.core import (
    BIDI_CONTROLS,
    clean_text,
    cut_utf16,
    preview,
    printable,
    utf16_length,
)

__all__ = [
    "DEFAULT_FIELD_MAPPING",
    "DEFAULT_MANAGEMENT_LINK_TEMPLATE",
    "IDENTITY_FIELDS",
    "MAPPED_FIELDS",
    "MAX_LENGTHS",
    "DeviceMappingError",
    "MappedDevice",
    "clean_text",
    "management_link_template_problem",
    "map_device",
    "render_management_link",
    "utf16_length",
]

DEFAULT_MANAGEMENT_LINK_TEMPLATE = "https://app.addigy.com/devices/{agentid}"

#: ConnectWise configuration field -> Addigy fact identifier (the seed's table).
DEFAULT_FIELD_MAPPING: Mapping[str, str] = MappingProxyType(
    {
        "name": "device_name",
        "serialNumber": "serial_number",
        "macAddress": "ethernet_mac_address",
        "ipAddress": "local_ip",
        "osType": "os_platform",
        "osInfo": "system_version",
        "cpuSpeed": "processor_speed_ghz",
        "ram": "total_memory_gb",
        "lastLoginName": "current_user",
    }
)

#: The fields filled from facts (and so the only ones ``field_mapping`` may name).
MAPPED_FIELDS: tuple[str, ...] = tuple(DEFAULT_FIELD_MAPPING)

#: Fields that identify the device and mark the configuration as ours; never from facts.
IDENTITY_FIELDS: tuple[str, ...] = ("deviceIdentifier", "managementLink")

#: ConnectWise's maximum lengths (the API answers 400 beyond them).
MAX_LENGTHS: Mapping[str, int] = MappingProxyType(
    {
        "name": 100,
        "deviceIdentifier": 100,
        "serialNumber": 250,
        "macAddress": 25,
        "ipAddress": 50,
        "osType": 250,
        "osInfo": 250,
        "cpuSpeed": 100,
        "ram": 25,
        "lastLoginName": 100,
        "managementLink": 1000,
    }
)

# Longest template accepted: leaves room for a 100-character agent id, even percent-encoded.
_MAX_TEMPLATE_LENGTH = MAX_LENGTHS["managementLink"] - 3 * MAX_LENGTHS["deviceIdentifier"]
_SHOW_LIMIT = 80


class DeviceMappingError(ValueError):
    """A device whose record cannot become a configuration; names the device and the field.

    :param device_label: the device's name as far as it could be read (log-escaped).
    :param agentid: the device's agent id, ``None`` when it has none.
    :param field: the ConnectWise field (or record key) at fault.
    :param message: what is wrong, with the offending value shown escaped and cut.
    """

    def __init__(self, device_label: str, agentid: str | None, field: str, message: str) -> None:
        self.device_label = device_label
        self.agentid = agentid
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        agent = printable(self.agentid, _SHOW_LIMIT) if self.agentid else "none"
        label = printable(self.device_label, _SHOW_LIMIT)
        return f"device '{label}' (agent id {agent}): {self.field}: {self.message}"


class _FieldError(ValueError):
    """Raised by a normaliser; turned into DeviceMappingError once the device is known."""


@dataclass(frozen=True)
class MappedDevice:
    """A device's ConnectWise field values, its flattened facts and what was noticed on the way."""

    agentid: str
    name: str
    policy_ids: tuple[str, ...]
    #: ConnectWise field -> value, including ``name``, ``deviceIdentifier`` and ``managementLink``.
    fields: dict[str, str]
    #: every fact identifier -> bare value (envelopes opened, errored facts left out): the type
    #: rules read these.
    facts: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    #: ``name`` is a stand-in (serial number or agent id): no usable device name was found
    name_is_fallback: bool = False

    @property
    def policy_id(self) -> str | None:
        """The first policy id, ``None`` when the record names none."""
        return self.policy_ids[0] if self.policy_ids else None


# --- text helpers -------------------------------------------------------------------------------

#: Outside text longer than this is cut before it is cleaned: every field's maximum is far below
#: it, and cleaning a 1 MB value character by character would only cost time.
_MAX_RAW_TEXT = 4096
#: Entries of a list fact (several MAC or IP addresses) looked at; the first valid one wins.
_MAX_LIST_ENTRIES = 64


def _show(value: Any) -> str:
    """Show an outside value inside a message: repr'd, escaped and cut (never raises)."""
    return preview(value, _SHOW_LIMIT)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


def _raw_text(raw: str) -> str:
    return clean_text(raw[:_MAX_RAW_TEXT])


def _scalar_text(raw: Any) -> str:
    if isinstance(raw, str):
        return _raw_text(raw)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise _FieldError(f"{_show(raw)} is {_kind(raw)}, not text")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise _FieldError(f"{_show(raw)} is not a finite number")
    if isinstance(raw, int) and abs(raw) >= 10**_MAX_NUMBER_DIGITS:
        raise _FieldError(f"{_show(raw)} is too long a number to be text")
    return str(raw)


# --- field normalisers: raw fact value -> (ConnectWise text or None, notes) ----------------------
# A normaliser raises _FieldError when the fact holds a value its field cannot take (the field is
# then left unwritten, with a warning); it returns None when the fact says "nothing" (empty text,
# a placeholder address), and notes for what a person should know about a value it did write.

_MAX_NUMBER_DIGITS = 40


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
            raise _FieldError(f"{_show(raw)} holds {_kind(item)}, not text")
        out.extend(part for part in re.split(separators, _raw_text(item)) if part.strip())
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
        raise _FieldError(f"{_show(raw)} is not a MAC address")
    if macs:
        raise _FieldError(f"{_show(raw)} is a placeholder, not a MAC address")
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
        raise _FieldError(f"{_show(raw)} is not an IP address")
    return None, []


def _number_and_unit(raw: Any, units: str) -> tuple[Decimal, str | None]:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise _FieldError(f"{_show(raw)} is {_kind(raw)}, not a number")
    if isinstance(raw, int):
        if abs(raw) >= 10**_MAX_NUMBER_DIGITS:
            raise _FieldError(f"{_show(raw)} is not a plausible number")
        return Decimal(raw), None
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise _FieldError(f"{_show(raw)} is not a finite number")
        return Decimal(repr(raw)), None
    text = _raw_text(raw)
    number = rf"([0-9]{{1,{_MAX_NUMBER_DIGITS}}}(?:[.,][0-9]{{1,{_MAX_NUMBER_DIGITS}}})?)"
    match = re.fullmatch(rf"{number}\s*({units})?", text, re.ASCII | re.IGNORECASE)
    if match is None:
        # A processor name such as "Intel(R) Core(TM) i7-9750H CPU @ 2.60GHz".
        # The lookbehind keeps a number from starting mid-token: "-1 GHz" is not 1 GHz.
        match = re.search(rf"(?<![-\w.,]){number}\s*({units})\b", text, re.ASCII | re.IGNORECASE)
    if match is None:
        raise _FieldError(f"{_show(raw)} is not a number")
    return Decimal(match.group(1).replace(",", ".")), (match.group(2) or "").lower() or None


def _compact(value: Decimal, places: str, low: Decimal, high: Decimal, what: str, raw: Any) -> str:
    """Round ``value`` to ``places``; refuse what is not in ``(low, high]`` once rounded."""
    # Bounded first: quantize() of a number with more digits than the context holds raises.
    if not low < value <= high:
        raise _FieldError(f"{_show(raw)} is not a plausible {what}")
    rounded = value.quantize(Decimal(places), rounding=ROUND_HALF_UP).normalize()
    if rounded <= low:
        raise _FieldError(f"{_show(raw)} is not a plausible {what}")
    return format(rounded, "f")


def _normalise_cpu_speed(raw: Any) -> tuple[str | None, list[str]]:
    if isinstance(raw, str) and not _raw_text(raw):
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
    if isinstance(raw, str) and not _raw_text(raw):
        return None, []
    value, unit = _number_and_unit(raw, "bytes|kib|mib|gib|tib|kb|mb|gb|tb|b|k|m|g|t")
    if unit is None:
        unit = "b" if value >= 2**20 else "gb"
    # At most a petabyte: anything larger is a unit mix-up, not memory.
    return _compact(value * _RAM_FACTORS[unit], "0.1", Decimal(0), Decimal(2**20), "memory size", raw), []


_NORMALISERS: Mapping[str, Callable[[Any], tuple[str | None, list[str]]]] = MappingProxyType(
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


# --- management link ----------------------------------------------------------------------------


def management_link_template_problem(template: Any) -> str | None:
    """Return what is wrong with a management link template, ``None`` when it is usable.

    The rendered link is the ownership marker, so it must be a stable https URL holding the agent
    id; ``"``, ``\\`` and ``*`` are refused because they cannot be matched safely in ConnectWise
    ``conditions``.

    :param template: the template, e.g. ``https://app.addigy.com/devices/{agentid}``.
    """
    if not isinstance(template, str):
        return f"must be text, got {_kind(template)}"
    if "{agentid}" not in template:
        return "must contain the placeholder {agentid}"
    rest = template.replace("{agentid}", "")
    stray = re.search(r"\{[^}]*\}?|\}", rest)
    if stray:
        return f"unknown placeholder {printable(stray.group(0), 40)}; the only placeholder is {{agentid}}"
    bad = sorted({char for char in rest if char in '"\\*' or char.isspace() or not char.isprintable()})
    if bad:
        return "must not contain " + ", ".join(printable(repr(char)) for char in bad)
    parts = urlsplit(template.replace("{agentid}", "x"))
    if parts.scheme != "https" or not parts.netloc:
        return "must be an https URL such as https://app.addigy.com/devices/{agentid}"
    if len(template) > _MAX_TEMPLATE_LENGTH:
        return f"must be at most {_MAX_TEMPLATE_LENGTH} characters"
    return None


def render_management_link(template: str, agentid: str) -> str:
    """Render the ownership marker for one agent id (percent-encoded, so it stays one URL segment).

    :param template: a template accepted by :func:`management_link_template_problem`.
    :param agentid: the device's agent id.
    """
    return template.replace("{agentid}", quote(agentid, safe=""))


# --- the device record --------------------------------------------------------------------------


def _open_fact(value: Any) -> tuple[Any, str | None]:
    """Return (bare value, error message) of a fact: bare values pass, envelopes are opened."""
    if isinstance(value, Mapping) and ("value" in value or "error_msg" in value):
        error = value.get("error_msg")
        if error is None or error is False or error == "":
            return value.get("value"), None
        text = _raw_text(error) if isinstance(error, str) else _show(error)
        return None, text or "unknown error"
    return value, None


def _flatten_facts(facts: Mapping[Any, Any]) -> dict[str, Any]:
    out = {}
    for identifier, raw in facts.items():
        value, error = _open_fact(raw)
        if (
            isinstance(identifier, str)
            and error is None
            and value is not None
            and not isinstance(value, Mapping)
        ):
            out[identifier] = value
    return out


def _label(facts: Mapping[Any, Any], mapping: Mapping[str, str | None]) -> str:
    """Best-effort readable name of a device for messages, before anything is validated."""
    for field_name in ("name", "serialNumber"):
        fact = mapping.get(field_name)
        value, _ = _open_fact(facts.get(fact)) if isinstance(fact, str) else (None, None)
        if isinstance(value, str) and _raw_text(value[:200]):
            return printable(_raw_text(value[:200]), 60)
    return "<unnamed device>"


def _agentid(device: Mapping[str, Any], label: str) -> str:
    raw = device.get("agentid")
    if not isinstance(raw, str) or not raw.strip():
        raise DeviceMappingError(label, None, "agentid", f"missing or not text: {_show(raw)}")
    # Checked before trimming: a control character at either end is no more acceptable inside.
    if any(unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in BIDI_CONTROLS for char in raw):
        raise DeviceMappingError(
            label, raw.strip(), "deviceIdentifier", "agent id contains control characters"
        )
    agentid = raw.strip()
    if utf16_length(agentid) > MAX_LENGTHS["deviceIdentifier"]:
        raise DeviceMappingError(
            label,
            agentid,
            "deviceIdentifier",
            f"agent id is longer than {MAX_LENGTHS['deviceIdentifier']} characters; it identifies the "
            "device, so it is never cut",
        )
    return agentid


def _policy_ids(device: Mapping[str, Any], label: str, agentid: str) -> tuple[str, ...]:
    raw: list[Any] = []
    if device.get("policy_id") is not None:
        raw.append(device["policy_id"])
    many = device.get("policy_ids")
    if many is not None:
        if not isinstance(many, (list, tuple)):
            raise DeviceMappingError(label, agentid, "policy_ids", f"expected a list, got {_show(many)}")
        raw.extend(many)
    out: list[str] = []
    for item in raw:
        if isinstance(item, str):
            text = _raw_text(item)
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) < 10**_MAX_NUMBER_DIGITS:
            text = str(item)
        else:
            text = ""
        if not text:
            raise DeviceMappingError(label, agentid, "policy_id", f"not a policy id: {_show(item)}")
        if text not in out:
            out.append(text)
    return tuple(out)


def _read_field(field_name: str, fact: str, facts: Mapping[Any, Any]) -> tuple[str | None, list[str]]:
    """Return one field's value (``None``: not written) and its warnings; never raises."""
    shown_fact = printable(repr(fact), 60)
    raw, error = _open_fact(facts.get(fact))
    if error is not None:
        return None, [
            f"{field_name} left unchanged: fact {shown_fact} reported an error: {printable(error, 200)}"
        ]
    if raw is None:
        if field_name == "serialNumber":
            return None, [
                f"serialNumber: no serial number (fact {shown_fact} is missing or null); not written"
            ]
        return None, []
    try:
        value, notes = _NORMALISERS[field_name](raw)
    except _FieldError as exc:
        return None, [f"{field_name}: {exc} (fact {shown_fact}); not written"]
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        # Containment: whatever a value does to a normaliser stays with this field.
        return None, [f"{field_name}: {_show(raw)} could not be read ({type(exc).__name__}); not written"]
    warnings = [f"{field_name}: {note}" for note in notes]
    if not value:
        return None, warnings
    limit = MAX_LENGTHS[field_name]
    if utf16_length(value) > limit:
        warnings.append(f"{field_name} cut to {limit} characters, ConnectWise's maximum (was {len(value)})")
        value = cut_utf16(value, limit)
    return value, warnings


def _fallback_name(values: Mapping[str, str], agentid: str, fact: Any) -> tuple[str, str]:
    """A stand-in name (ConnectWise requires one) and the warning saying so."""
    name, source = values.get("serialNumber"), "serial number"
    if name is None:
        name, source = agentid, "agent id"
    warning = (
        f"name: no device name (fact {printable(repr(fact), 60)}); a new configuration is named after its "
        f"{source}, an existing one keeps its name"
    )
    return cut_utf16(name, MAX_LENGTHS["name"]), warning


def map_device(
    device: Mapping[str, Any],
    mapping: Mapping[str, str | None] | None = None,
    *,
    management_link_template: str = DEFAULT_MANAGEMENT_LINK_TEMPLATE,
) -> MappedDevice:
    """Turn one MDM device record into ConnectWise configuration field values.

    A fact that cannot be normalised leaves its field unwritten, with a warning; only a device
    that cannot have a configuration at all fails.

    :param device: the device record (see the module docstring); untrusted.
    :param mapping: ConnectWise field -> fact identifier (``None`` or absent: the field is not
        synced); defaults to :data:`DEFAULT_FIELD_MAPPING`.
    :param management_link_template: the ownership marker template (already validated).
    :raises DeviceMappingError: the record cannot become a configuration (not an object, no usable
        agent id, unreadable policy ids); the error names the device and the field.
    """
    mapping = DEFAULT_FIELD_MAPPING if mapping is None else mapping
    unknown = [name for name in mapping if name not in _NORMALISERS]
    if unknown:
        raise ValueError(f"field_mapping names {unknown[0]!r}, which is not a mapped ConnectWise field")
    if not isinstance(device, Mapping):
        raise DeviceMappingError(
            "<not a device record>", None, "device", f"expected an object, got {_show(device)}"
        )
    warnings: list[str] = []
    facts = device.get("facts")
    if facts is None:
        facts = {}
    elif not isinstance(facts, Mapping):
        warnings.append(f"facts: expected an object, got {_kind(facts)} {_show(facts)}; no fact read")
        facts = {}
    label = _label(facts, mapping)
    agentid = _agentid(device, label)
    policy_ids = _policy_ids(device, label, agentid)

    values: dict[str, str] = {}
    for field_name, fact in mapping.items():
        if not fact:
            continue
        value, notes = _read_field(field_name, fact, facts)
        warnings.extend(notes)
        if value is not None:
            values[field_name] = value

    name = values.pop("name", None)
    name_is_fallback = name is None
    if name is None:
        name, warning = _fallback_name(values, agentid, mapping.get("name"))
        warnings.append(warning)
    link = render_management_link(management_link_template, agentid)
    if len(link) > MAX_LENGTHS["managementLink"]:
        raise DeviceMappingError(
            label, agentid, "managementLink", "the rendered link is longer than 1000 characters"
        )
    fields = {"name": name, "deviceIdentifier": agentid, **values, "managementLink": link}
    return MappedDevice(
        agentid=agentid,
        name=name,
        policy_ids=policy_ids,
        fields=fields,
        facts=_flatten_facts(facts),
        warnings=tuple(warnings),
        name_is_fallback=name_is_fallback,
    )
