"""One mapped device against its company's configurations: create, update or leave it.

- Matching: ``deviceIdentifier`` equals the agent id (trimmed, case-insensitive). Several
  matches: ours first (see ownership), then the active one, then the lowest id; the others are
  left untouched and named in a warning.
- A configuration matched by agent id or adopted by serial number is made ours by the update,
  which writes both identity fields (the seed updates an existing configuration of the device);
  one that is neither matched nor adopted never appears in any action, whatever its name or
  serial number.
- Adoption by serial number (``adopt_by_serial``): only a configuration with an empty
  ``deviceIdentifier``, only when the serial is a real one and unique among the company's
  devices; among several candidates, only a single active one. Otherwise a new configuration is
  created, with a warning.
- Changes: only mapped fields whose value differs (trimmed; case-sensitive, so renaming
  "macbook" to "MacBook" is synced), the status when not active, and the identity fields when
  they differ (adoption, a changed template). Never ``type`` or ``company``, never a protected
  field, never a field whose fact is missing (it is not in ``desired``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from airflow_provider_connectwise.core import printable
from airflow_provider_connectwise.core.mapping import MappedDevice
from airflow_provider_connectwise.core.planning.configurations import (
    ConfigurationIndex,
    field_text,
    is_real_serial,
    prefer,
    ref_id,
    serial_key,
)
from airflow_provider_connectwise.core.planning.records import DeviceAction
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.core.type_rules import choose_configuration_type

__all__ = ["changes", "device_action", "update_or_none"]

# Fields of ``desired`` that are set on create only.
_CREATE_ONLY = ("type", "company")


def changes(
    desired: Mapping[str, Any], configuration: Mapping[str, Any], protected: Iterable[str]
) -> dict[str, Any]:
    """Field -> new value for every field of ``desired`` the configuration does not already hold."""
    protected = set(protected)
    out: dict[str, Any] = {}
    for key, value in desired.items():
        if key in _CREATE_ONLY or key in protected:
            continue
        if isinstance(value, Mapping):
            if ref_id(configuration, key) != value.get("id"):
                out[key] = dict(value)
        elif field_text(configuration.get(key)) != value:
            out[key] = value
    return out


def update_or_none(base: DeviceAction, configuration: Mapping[str, Any], warnings: list[str]) -> DeviceAction:
    """``base`` turned into an update of the configuration, or ``none`` when it already holds it all."""
    found = changes(base.desired, configuration, base.protected_fields)
    return replace(
        base,
        action="update" if found else "none",
        configuration_id=configuration["id"],
        changes=found,
        warnings=tuple(warnings),
    )


def _takeover_warning(configuration: Mapping[str, Any], link: str) -> str | None:
    current = field_text(configuration.get("managementLink"))
    if current and current.casefold() != link.casefold():
        return (
            f"configuration {configuration['id']} had management link {printable(current, 120)}; "
            "it is replaced by this integration's link"
        )
    return None


def _adoptable(
    mapped: MappedDevice,
    index: ConfigurationIndex,
    claimed: set[int],
    shared_serials: set[str],
    active_status_id: int,
    warnings: list[str],
) -> Mapping[str, Any] | None:
    serial = mapped.fields.get("serialNumber", "")
    key = serial_key(serial)
    candidates = [c for c in index.unidentified_with_serial(serial) if c["id"] not in claimed] if key else []
    if not candidates:
        return None
    shown = printable(repr(serial), 60)
    if not is_real_serial(key):
        warnings.append(f"serial number {shown} looks like a placeholder; no configuration adopted by it")
        return None
    if key in shared_serials:
        warnings.append(f"serial number {shown} is on several devices; no configuration adopted by it")
        return None
    if len(candidates) > 1:
        active = [c for c in candidates if ref_id(c, "status") == active_status_id]
        if len(active) != 1:
            ids = ", ".join(str(c["id"]) for c in candidates)
            warnings.append(
                f"configurations {ids} have serial number {shown} and no device identifier; "
                "none adopted (ambiguous), a new configuration is created"
            )
            return None
        candidates = active
    chosen = candidates[0]
    warnings.append(f"adopting configuration {chosen['id']} (same serial number, no device identifier)")
    return chosen


def _desired(
    mapped: MappedDevice,
    company_id: int,
    settings: ResolvedSettings,
    sites: Mapping[str, int],
    warnings: list[str],
) -> dict[str, Any]:
    """The device's full desired state: mapped fields, active status, type, company and site."""
    type_id = choose_configuration_type(mapped.facts, settings.type_rules, settings.default_type_id)
    desired = {
        **mapped.fields,
        "status": {"id": settings.active_status_id},
        "type": {"id": type_id},
        "company": {"id": company_id},
    }
    site_ids = list(dict.fromkeys(sites[p] for p in mapped.policy_ids if p in sites))
    if site_ids:
        desired["site"] = {"id": site_ids[0]}
        if len(site_ids) > 1:
            warnings.append(f"the device's policies name sites {site_ids}; site {site_ids[0]} is used")
    return desired


def _matched(
    mapped: MappedDevice,
    index: ConfigurationIndex,
    settings: ResolvedSettings,
    claimed: set[int],
    shared_serials: set[str],
    warnings: list[str],
) -> Mapping[str, Any] | None:
    """The device's configuration: the preferred one of its agent id, else one adopted by serial."""
    link = mapped.fields["managementLink"]
    matches = prefer(index.for_agentid(mapped.agentid), link, settings.active_status_id)
    if matches:
        if len(matches) > 1:
            others = ", ".join(str(c["id"]) for c in matches[1:])
            warnings.append(f"configurations {others} also carry this agent id; left untouched")
        return matches[0]
    if settings.adopt_by_serial:
        return _adoptable(mapped, index, claimed, shared_serials, settings.active_status_id, warnings)
    return None


def device_action(
    mapped: MappedDevice,
    company_id: int,
    index: ConfigurationIndex,
    settings: ResolvedSettings,
    claimed: set[int],
    shared_serials: set[str],
    sites: Mapping[str, int],
) -> DeviceAction:
    """Decide one device: create, or update/none of the configuration it matches (then ``claimed``).

    :param mapped: the mapped device.
    :param company_id: the company planned.
    :param index: the company's configurations.
    :param settings: the resolved settings.
    :param claimed: ids of configurations already matched by a device of this plan (updated here).
    :param shared_serials: serial keys more than one device of the company reports.
    :param sites: policy id -> ConnectWise site id.
    """
    warnings = list(mapped.warnings)
    base = DeviceAction(
        agentid=mapped.agentid,
        device_name=mapped.name,
        policy_ids=mapped.policy_ids,
        company_id=company_id,
        action="create",
        desired=_desired(mapped, company_id, settings, sites, warnings),
        # A stand-in name is for a new configuration only: an existing one keeps its name.
        protected_fields=(*settings.protected_fields, *(("name",) if mapped.name_is_fallback else ())),
    )
    chosen = _matched(mapped, index, settings, claimed, shared_serials, warnings)
    if chosen is None:
        return replace(base, warnings=tuple(warnings))
    claimed.add(chosen["id"])
    takeover = _takeover_warning(chosen, mapped.fields["managementLink"])
    if takeover:
        warnings.append(takeover)
    return update_or_none(base, chosen, warnings)
