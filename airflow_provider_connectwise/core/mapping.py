"""MDM device facts -> ConnectWise configuration fields (the seed's field table), normalised.

A device record is the JSON-safe dict of ``docs/design.md``::

    {"agentid": "5f1c…", "policy_id": "pol-1",          # or "policy_ids": ["pol-1", ...]
     "facts": {"device_name": "Ann's MacBook",         # a bare value, or Addigy's envelope:
               "serial_number": {"value": "C02…", "type": "string", "error_msg": null}}}

Every value in it comes from outside. :func:`map_device` returns a :class:`MappedDevice` or raises
:class:`DeviceMappingError` naming the device (name and agent id) and the field.

Decisions:

- ``deviceIdentifier`` is the agent id and ``managementLink`` the rendered template, always; they
  identify the device and mark the configuration as ours, so they are never cut or cleaned: an
  agent id that is empty, not text, holds control characters or is longer than 100 characters is
  an error rather than a silently different identity.
- Text is NFC-normalised; tabs, newlines and other whitespace become one space, runs of
  whitespace collapse, the ends are trimmed; other control characters, lone surrogates and
  bidirectional overrides are removed (other format characters, such as the joiner inside emoji,
  are kept). Quotes, backslashes and ``*`` are data and are kept.
- Lengths are ConnectWise's maximums counted in UTF-16 code units (ConnectWise is a .NET
  application), so an emoji counts two; cutting never splits a character and adds a warning.
- A missing fact, ``null``, or a value that is empty after cleaning leaves the field out: the
  configuration keeps what it has (nothing is ever cleared). A fact carrying ``error_msg`` is also
  left out, with a warning naming the fact and the message.
- A boolean, object or list where text is expected is an error (lists are accepted only for MAC
  and IP addresses, where the first valid entry wins).
- MAC: ``aa:bb:cc:dd:ee:ff``, ``aa-bb-…`` (one or two digits per group), ``aabb.ccdd.eeff`` and
  ``aabbccddeeff``, spaces ignored, several separated by ``,`` ``;`` or newlines -> the first valid
  one as ``AA:BB:CC:DD:EE:FF``. ``00:00:00:00:00:00`` is a placeholder, not an address.
- IP: IPv4 or IPv6 (with a zone, ``fe80::1%en0``), several separated by commas or spaces -> the
  first valid one in its compressed form. ``0.0.0.0``/``::`` mean "no address" and are skipped.
- cpuSpeed in GHz, at most two decimals: ``2.3``, ``"2.3 GHz"``, ``"2300 MHz"``, a bare number
  above 100 is MHz and one above 1,000,000 is Hz; a processor name such as ``"… @ 2.60GHz"`` is
  read too. A decimal comma is accepted.
- ram in GB (binary units: 1 GB = 1024 MB), one decimal when needed: ``"16 GB"``, ``"16384 MB"``,
  ``"17179869184"`` (a bare number of 1,048,576 or more is bytes, below it GB), ``16``.
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
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit

from airflow_provider_connectwise.core import BIDI_CONTROLS, printable

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
        "cpuSpeed": "processor_speed",
        "ram": "total_memory",
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


def _show(value: Any) -> str:
    """Show an outside value inside a message: repr'd, escaped and cut."""
    return printable(repr(value), _SHOW_LIMIT)


def utf16_length(text: str) -> int:
    """Return the length ConnectWise (.NET) sees: UTF-16 code units.

    :param text: any text.
    """
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _cut(text: str, limit: int) -> str:
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index].rstrip()
    return text


def clean_text(text: str) -> str:
    """Return outside text NFC-normalised, single-spaced and trimmed, without control characters.

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


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _scalar_text(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise _FieldError(f"expected text, got {_kind(raw)} {_show(raw)}")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise _FieldError(f"expected text, got {_show(raw)}")
    return clean_text(raw if isinstance(raw, str) else str(raw))


# --- field normalisers: raw fact value -> ConnectWise text, or None to leave the field out -----


def _normalise_text(raw: Any) -> str | None:
    return _scalar_text(raw) or None


def _candidates(raw: Any, separators: str) -> list[str]:
    items = list(raw) if isinstance(raw, (list, tuple)) else [raw]
    out = []
    for item in items:
        if item is None:
            continue
        if not isinstance(item, str):
            raise _FieldError(f"expected text, got {_kind(item)} {_show(item)}")
        out.extend(part for part in re.split(separators, clean_text(item)) if part.strip())
    return out


_MAC_GROUPS = re.compile(r"[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(?:\1[0-9a-f]{1,2}){4}", re.ASCII | re.IGNORECASE)
_MAC_DOTTED = re.compile(r"[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}", re.ASCII | re.IGNORECASE)
_MAC_BARE = re.compile(r"[0-9a-f]{12}", re.ASCII | re.IGNORECASE)


def _parse_mac(text: str) -> str | None:
    text = "".join(text.split())
    if _MAC_GROUPS.fullmatch(text):
        digits = "".join(group.zfill(2) for group in re.split(r"[:-]", text))
    elif _MAC_DOTTED.fullmatch(text):
        digits = text.replace(".", "")
    elif _MAC_BARE.fullmatch(text):
        digits = text
    else:
        return None
    if int(digits, 16) == 0:
        return None
    digits = digits.upper()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _normalise_mac(raw: Any) -> str | None:
    candidates = _candidates(raw, r"[,;]")
    for candidate in candidates:
        mac = _parse_mac(candidate)
        if mac:
            return mac
        # "aa:bb:… 11:22:…" -- several addresses separated by spaces only.
        for part in candidate.split():
            mac = _parse_mac(part)
            if mac:
                return mac
    if candidates:
        raise _FieldError(f"no valid MAC address in {_show(raw)}")
    return None


def _normalise_ip(raw: Any) -> str | None:
    candidates = _candidates(raw, r"[,;\s]+")
    placeholders = 0
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        if address.is_unspecified:
            placeholders += 1
            continue
        return str(address)
    if len(candidates) > placeholders:
        raise _FieldError(f"no valid IP address in {_show(raw)}")
    return None


def _number_and_unit(raw: Any, units: str) -> tuple[Decimal, str | None]:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise _FieldError(f"expected a number, got {_kind(raw)} {_show(raw)}")
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise _FieldError(f"expected a number, got {_show(raw)}")
        return Decimal(str(raw)), None
    text = clean_text(raw)
    number = r"([0-9]+(?:[.,][0-9]+)?)"
    match = re.fullmatch(rf"{number}\s*({units})?", text, re.ASCII | re.IGNORECASE)
    if match is None:
        # A processor name such as "Intel(R) Core(TM) i7-9750H CPU @ 2.60GHz".
        # The lookbehind keeps a number from starting mid-token: "-1 GHz" is not 1 GHz.
        match = re.search(rf"(?<![-\w.,]){number}\s*({units})\b", text, re.ASCII | re.IGNORECASE)
    if match is None:
        raise _FieldError(f"cannot read a number from {_show(raw)}")
    try:
        value = Decimal(match.group(1).replace(",", "."))
    except InvalidOperation:
        raise _FieldError(f"cannot read a number from {_show(raw)}") from None
    return value, (match.group(2) or "").lower() or None


def _compact(value: Decimal, places: str) -> str:
    rounded = value.quantize(Decimal(places), rounding=ROUND_HALF_UP).normalize()
    return format(rounded, "f")


def _normalise_cpu_speed(raw: Any) -> str | None:
    if isinstance(raw, str) and not clean_text(raw):
        return None
    value, unit = _number_and_unit(raw, "ghz|mhz|hz")
    if unit is None:
        unit = "hz" if value >= 1_000_000 else "mhz" if value > 100 else "ghz"
    ghz = value / {"ghz": 1, "mhz": 1000, "hz": 1_000_000_000}[unit]
    text = _compact(ghz, "0.01")
    if Decimal(text) <= 0:
        raise _FieldError(f"not a plausible processor speed: {_show(raw)}")
    return text


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


def _normalise_ram(raw: Any) -> str | None:
    if isinstance(raw, str) and not clean_text(raw):
        return None
    value, unit = _number_and_unit(raw, "bytes|kib|mib|gib|tib|kb|mb|gb|tb|b|k|m|g|t")
    if unit is None:
        unit = "b" if value >= 2**20 else "gb"
    text = _compact(value * _RAM_FACTORS[unit], "0.1")
    if Decimal(text) <= 0:
        raise _FieldError(f"not a plausible memory size: {_show(raw)}")
    return text


_NORMALISERS: Mapping[str, Callable[[Any], str | None]] = MappingProxyType(
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
        if error not in (None, ""):
            return None, clean_text(str(error)) or "unknown error"
        return value.get("value"), None
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
        value, _ = _open_fact(facts.get(fact)) if fact else (None, None)
        if isinstance(value, str) and clean_text(value):
            return printable(clean_text(value), 60)
    return "<unnamed device>"


def _agentid(device: Mapping[str, Any], label: str) -> str:
    raw = device.get("agentid")
    if not isinstance(raw, str) or not raw.strip():
        raise DeviceMappingError(label, None, "agentid", f"missing or not text: {_show(raw)}")
    agentid = raw.strip()
    if any(
        unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in BIDI_CONTROLS for char in agentid
    ):
        raise DeviceMappingError(label, agentid, "deviceIdentifier", "agent id contains control characters")
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
        if isinstance(item, bool) or not isinstance(item, (str, int)) or not str(item).strip():
            raise DeviceMappingError(label, agentid, "policy_id", f"not a policy id: {_show(item)}")
        policy_id = clean_text(str(item))
        if policy_id not in out:
            out.append(policy_id)
    return tuple(out)


def map_device(
    device: Mapping[str, Any],
    mapping: Mapping[str, str | None] | None = None,
    *,
    management_link_template: str = DEFAULT_MANAGEMENT_LINK_TEMPLATE,
) -> MappedDevice:
    """Turn one MDM device record into ConnectWise configuration field values.

    :param device: the device record (see the module docstring); untrusted.
    :param mapping: ConnectWise field -> fact identifier (``None`` or absent: the field is not
        synced); defaults to :data:`DEFAULT_FIELD_MAPPING`.
    :param management_link_template: the ownership marker template (already validated).
    :raises DeviceMappingError: the record cannot become a configuration (no agent id, a value
        that is not what its field needs...); the error names the device and the field.
    """
    mapping = DEFAULT_FIELD_MAPPING if mapping is None else mapping
    if not isinstance(device, Mapping):
        raise DeviceMappingError(
            "<not a device record>", None, "device", f"expected an object, got {_show(device)}"
        )
    facts = device.get("facts")
    if facts is None:
        facts = {}
    label = _label(facts, mapping) if isinstance(facts, Mapping) else "<unnamed device>"
    agentid = _agentid(device, label)
    if not isinstance(facts, Mapping):
        raise DeviceMappingError(label, agentid, "facts", f"expected an object, got {_kind(facts)}")
    policy_ids = _policy_ids(device, label, agentid)

    warnings: list[str] = []
    values: dict[str, str] = {}
    for field_name, fact in mapping.items():
        normalise = _NORMALISERS.get(field_name)
        if normalise is None:
            raise ValueError(f"field_mapping names {field_name!r}, which is not a mapped ConnectWise field")
        if not fact:
            continue
        raw, error = _open_fact(facts.get(fact))
        if error is not None:
            warnings.append(
                f"{field_name} left unchanged: fact {fact!r} reported an error: {printable(error, 200)}"
            )
            continue
        if raw is None:
            continue
        try:
            value = normalise(raw)
        except _FieldError as exc:
            raise DeviceMappingError(label, agentid, field_name, f"fact {fact!r}: {exc}") from None
        if not value:
            continue
        limit = MAX_LENGTHS[field_name]
        if utf16_length(value) > limit:
            warnings.append(
                f"{field_name} cut to {limit} characters, ConnectWise's maximum (was {len(value)})"
            )
            value = _cut(value, limit)
        values[field_name] = value

    name = values.pop("name", None)
    name_is_fallback = name is None
    if name_is_fallback:
        name = values.get("serialNumber")
        source = "serial number"
        if name is None:
            name, source = _cut(agentid, MAX_LENGTHS["name"]), "agent id"
        warnings.append(
            f"name: no device name (fact {mapping.get('name')!r}); a new configuration is named after its "
            f"{source}, an existing one keeps its name"
        )
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
