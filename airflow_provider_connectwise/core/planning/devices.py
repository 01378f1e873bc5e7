"""Reading a company's device records: map each one, merge duplicates, fail what cannot bind.

Duplicate agent ids in the input: the same device listed for several policies (same serial
number, or neither has one) is merged, keeping all policy ids; a different device is ``fail``. A
device that fails mapping still counts as present, so its configuration is not deactivated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from airflow_provider_connectwise.core import printable
from airflow_provider_connectwise.core.mapping import DeviceMappingError, MappedDevice, map_device
from airflow_provider_connectwise.core.planning.configurations import serial_key
from airflow_provider_connectwise.core.planning.records import DeviceAction
from airflow_provider_connectwise.core.settings import ResolvedSettings

__all__ = ["DeviceEntry", "fail_action", "read_devices", "shared_serials"]

#: One device of the input, in input order: mapped, or already a ``fail`` action.
DeviceEntry = MappedDevice | DeviceAction


def fail_action(company_id: int, exc: DeviceMappingError, policy_ids: tuple[str, ...] = ()) -> DeviceAction:
    """The ``fail`` action of a device that cannot bind, naming why."""
    return DeviceAction(
        agentid=exc.agentid,
        device_name=exc.device_label,
        policy_ids=policy_ids,
        company_id=company_id,
        action="fail",
        error=str(exc),
    )


def _raw_policy_ids(device: Any) -> tuple[str, ...]:
    """The policy ids of a device record that could not be mapped (only plain texts are kept)."""
    if not isinstance(device, Mapping):
        return ()
    raw = device.get("policy_ids")
    values = raw if isinstance(raw, list | tuple) else [device.get("policy_id")]
    return tuple(
        dict.fromkeys(
            # an int of more than 4300 digits refuses str(): it is no policy id anyway
            str(v)
            for v in values
            if (isinstance(v, str) and v) or (type(v) is int and abs(v) < 10**40)
        )
    )


def _same_device(first: MappedDevice, second: MappedDevice) -> bool:
    return serial_key(first.fields.get("serialNumber")) == serial_key(second.fields.get("serialNumber"))


def _merge_duplicate(
    company_id: int, first: MappedDevice, mapped: MappedDevice
) -> tuple[MappedDevice, DeviceAction | None]:
    """A second record of an agent id: the first one with its policies merged, or it and a ``fail``."""
    if _same_device(first, mapped):
        merged = first.policy_ids + tuple(p for p in mapped.policy_ids if p not in first.policy_ids)
        note = () if merged != first.policy_ids else ("listed twice for the same policy; merged",)
        return replace(first, policy_ids=merged, warnings=first.warnings + note), None
    error = DeviceMappingError(
        printable(mapped.name, 60),
        mapped.agentid,
        "deviceIdentifier",
        f"agent id also on device {printable(repr(first.name), 60)} (another serial number); "
        "an agent id identifies one device",
    )
    return first, replace(fail_action(company_id, error), policy_ids=mapped.policy_ids)


def read_devices(
    company_id: int, devices: Iterable[Mapping[str, Any]], settings: ResolvedSettings
) -> tuple[list[DeviceEntry], set[str]]:
    """Map every device; return the entries in input order (devices or fail actions) and the agent ids present."""
    entries: list[DeviceEntry] = []
    position: dict[str, int] = {}
    present: set[str] = set()
    for device in devices:
        try:
            mapped = map_device(
                device, settings.field_mapping, management_link_template=settings.management_link_template
            )
        except DeviceMappingError as exc:
            if exc.agentid:
                present.add(exc.agentid.casefold())
            # keep the device's policies: a device that cannot bind turns its policy's icon red
            entries.append(fail_action(company_id, exc, _raw_policy_ids(device)))
            continue
        key = mapped.agentid.casefold()
        present.add(key)
        if key not in position:
            position[key] = len(entries)
            entries.append(mapped)
            continue
        first = entries[position[key]]
        assert isinstance(first, MappedDevice)
        entries[position[key]], failed = _merge_duplicate(company_id, first, mapped)
        if failed is not None:
            entries.append(failed)
    return entries, present


def shared_serials(entries: Sequence[DeviceEntry]) -> set[str]:
    """The serial numbers (as :func:`serial_key` s) that more than one mapped device reports."""
    counts = Counter(
        serial_key(entry.fields.get("serialNumber")) for entry in entries if isinstance(entry, MappedDevice)
    )
    return {serial for serial, count in counts.items() if count > 1}
