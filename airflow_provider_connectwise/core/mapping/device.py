"""One MDM device record -> a :class:`MappedDevice`, or a :class:`DeviceMappingError` naming it.

The record's shape and the decisions are in the ``core.mapping`` docstring; each field's value is
normalised by ``core.mapping.values``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_connectwise.core import BIDI_CONTROLS, cut_utf16, printable, utf16_length
from airflow_provider_connectwise.core.mapping.fields import (
    DEFAULT_FIELD_MAPPING,
    DEFAULT_MANAGEMENT_LINK_TEMPLATE,
    MAX_LENGTHS,
)
from airflow_provider_connectwise.core.mapping.link import render_management_link
from airflow_provider_connectwise.core.mapping.values import (
    MAX_NUMBER_DIGITS,
    NORMALISERS,
    SHOW_LIMIT,
    FieldError,
    kind,
    open_fact,
    raw_text,
    show,
)

__all__ = ["DeviceMappingError", "MappedDevice", "map_device"]


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
        agent = printable(self.agentid, SHOW_LIMIT) if self.agentid else "none"
        label = printable(self.device_label, SHOW_LIMIT)
        return f"device '{label}' (agent id {agent}): {self.field}: {self.message}"


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


# --- the device record --------------------------------------------------------------------------


def _flatten_facts(facts: Mapping[Any, Any]) -> dict[str, Any]:
    out = {}
    for identifier, raw in facts.items():
        value, error = open_fact(raw)
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
        value, _ = open_fact(facts.get(fact)) if isinstance(fact, str) else (None, None)
        if isinstance(value, str) and raw_text(value[:200]):
            return printable(raw_text(value[:200]), 60)
    return "<unnamed device>"


def _agentid(device: Mapping[str, Any], label: str) -> str:
    raw = device.get("agentid")
    if not isinstance(raw, str) or not raw.strip():
        raise DeviceMappingError(label, None, "agentid", f"missing or not text: {show(raw)}")
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
            raise DeviceMappingError(label, agentid, "policy_ids", f"expected a list, got {show(many)}")
        raw.extend(many)
    out: list[str] = []
    for item in raw:
        if isinstance(item, str):
            text = raw_text(item)
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) < 10**MAX_NUMBER_DIGITS:
            text = str(item)
        else:
            text = ""
        if not text:
            raise DeviceMappingError(label, agentid, "policy_id", f"not a policy id: {show(item)}")
        if text not in out:
            out.append(text)
    return tuple(out)


def _read_field(field_name: str, fact: str, facts: Mapping[Any, Any]) -> tuple[str | None, list[str]]:
    """Return one field's value (``None``: not written) and its warnings; never raises."""
    shown_fact = printable(repr(fact), 60)
    raw, error = open_fact(facts.get(fact))
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
        value, notes = NORMALISERS[field_name](raw)
    except FieldError as exc:
        return None, [f"{field_name}: {exc} (fact {shown_fact}); not written"]
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        # Containment: whatever a value does to a normaliser stays with this field.
        return None, [f"{field_name}: {show(raw)} could not be read ({type(exc).__name__}); not written"]
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


def _checked_mapping(mapping: Mapping[str, str | None] | None) -> Mapping[str, str | None]:
    mapping = DEFAULT_FIELD_MAPPING if mapping is None else mapping
    unknown = [name for name in mapping if name not in NORMALISERS]
    if unknown:
        raise ValueError(f"field_mapping names {unknown[0]!r}, which is not a mapped ConnectWise field")
    return mapping


def _facts(device: Mapping[str, Any], warnings: list[str]) -> Mapping[Any, Any]:
    """The record's facts; facts that are not an object read as none, with a warning."""
    facts = device.get("facts")
    if facts is None:
        return {}
    if not isinstance(facts, Mapping):
        warnings.append(f"facts: expected an object, got {kind(facts)} {show(facts)}; no fact read")
        return {}
    return facts


def _read_fields(
    mapping: Mapping[str, str | None], facts: Mapping[Any, Any], warnings: list[str]
) -> dict[str, str]:
    """Every mapped field that has a value (field -> value); what was noticed goes to ``warnings``."""
    values: dict[str, str] = {}
    for field_name, fact in mapping.items():
        if not fact:
            continue
        value, notes = _read_field(field_name, fact, facts)
        warnings.extend(notes)
        if value is not None:
            values[field_name] = value
    return values


def _management_link(template: str, agentid: str, label: str) -> str:
    link = render_management_link(template, agentid)
    if len(link) > MAX_LENGTHS["managementLink"]:
        raise DeviceMappingError(
            label, agentid, "managementLink", "the rendered link is longer than 1000 characters"
        )
    return link


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
    mapping = _checked_mapping(mapping)
    if not isinstance(device, Mapping):
        raise DeviceMappingError(
            "<not a device record>", None, "device", f"expected an object, got {show(device)}"
        )
    warnings: list[str] = []
    facts = _facts(device, warnings)
    label = _label(facts, mapping)
    agentid = _agentid(device, label)
    policy_ids = _policy_ids(device, label, agentid)
    values = _read_fields(mapping, facts, warnings)
    name = values.pop("name", None)
    name_is_fallback = name is None
    if name is None:
        name, warning = _fallback_name(values, agentid, mapping.get("name"))
        warnings.append(warning)
    link = _management_link(management_link_template, agentid, label)
    return MappedDevice(
        agentid=agentid,
        name=name,
        policy_ids=policy_ids,
        fields={"name": name, "deviceIdentifier": agentid, **values, "managementLink": link},
        facts=_flatten_facts(facts),
        warnings=tuple(warnings),
        name_is_fallback=name_is_fallback,
    )
