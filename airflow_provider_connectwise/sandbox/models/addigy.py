"""Addigy state: policies, devices with facts, the fact catalogue and monitoring alerts.

Plain Python (no HTTP). API methods take the decoded JSON body and raise ``AddigyError`` subclasses;
admin methods (``add_device``, ``move_device``, ``raise_alert`` ...) drive the scenarios tests need.
How a device or alert query body is checked and applied is in ``addigy_query.py``.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from ..exceptions import AddigyError, AddigyNotFound
from ..paging import PageRequest, page_slice
from .addigy_query import (
    alert_query,
    device_query,
    iso,
    metadata,
    object_body,
    select_alerts,
    select_devices,
)

Record = dict[str, Any]

#: The built-in facts the seeds use: identifier -> (display name, return type), as Addigy names and
#: types them (``docs/reference/addigy-api.md``, "Device fact identifiers").
FACT_CATALOGUE: dict[str, tuple[str, str]] = {
    "device_name": ("Device Name", "string"),
    "serial_number": ("Serial Number", "string"),
    "ethernet_mac_address": ("Ethernet MAC Address", "string"),
    "local_ip": ("Local IP", "string"),
    "os_platform": ("OS Platform", "string"),
    "system_version": ("System Version", "string"),
    "ethernet_ma_cs": ("Ethernet MACs", "list"),
    "processor_speed_ghz": ("Processor Speed (GHz)", "number"),
    "total_memory_gb": ("Total Memory (GB)", "number"),
    "current_user": ("Current User", "string"),
    "hardware_model": ("Hardware Model", "string"),
    "device_model_name": ("Device Model Name", "string"),
    "host_name": ("Host Name", "string"),
    "wifi_mac_address": ("WiFi MAC Address", "string"),
    "processor_type": ("Processor Type", "string"),
    "total_disk_space_gb": ("Total Disk Space (GB)", "number"),
    "warranty_expiration_date": ("Warranty Expiration Date", "date"),
    "policy_ids": ("Policy IDs", "list"),
    "online": ("Online", "boolean"),
    "last_online": ("Last Online", "date"),
    "agent_version": ("Agent Version", "string"),
}

ALERT_STATUSES = ("Unattended", "Acknowledged", "Resolved")
MAX_DEVICES_PER_PAGE = 500


class FactError:
    """A fact whose collection failed on the device: stored as ``{value: null, error_msg: message}``."""

    def __init__(self, message: str):
        self.message = message


def _fact_type(value: Any, default: str) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return default


class AddigyBackend:
    """All Addigy state of one sandbox.

    :param org_id: the organization the API key belongs to.
    :param clock: returns "now" (UTC).
    """

    def __init__(self, org_id: str, *, clock: Callable[[], datetime] | None = None):
        self.lock = threading.RLock()
        self.org_id = org_id
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.policies: dict[str, Record] = {}
        self.devices: dict[str, Record] = {}
        self.alerts: dict[str, Record] = {}
        self.facts: dict[str, tuple[str, str]] = dict(FACT_CATALOGUE)
        self._alert_seq = itertools.count(1)
        self._device_seq = itertools.count(1)
        self._policy_seq = itertools.count(1)

    def now(self) -> str:
        return iso(self.clock())

    # ------------------------------------------------------------ API: whoami / facts

    def fact_catalogue(self) -> list[Record]:
        """GET /o/{org}/facts."""
        return [
            {
                "identifier": ident,
                "name": name,
                "return_type": rtype,
                "orgid": self.org_id,
                "provider": "addigy",
                "source": "built-in",
                "version": 1,
            }
            for ident, (name, rtype) in self.facts.items()
        ]

    # ------------------------------------------------------------ API: policies

    def query_policies(self, body: Any) -> list[Record]:
        """POST /oa/policies/query with ``{"policies": [ids]}`` or ``{}``: a plain array, no paging."""
        body = object_body(body)
        wanted = body.get("policies")
        if wanted is not None and (
            not isinstance(wanted, list) or not all(isinstance(p, str) for p in wanted)
        ):
            raise AddigyError("policies must be an array of policy ids")
        with self.lock:
            policies: Iterable[dict[str, Any]] = self.policies.values()
            if wanted:
                keep = set(wanted)
                policies = [p for p in policies if p["policyId"] in keep]
            return [copy.deepcopy(p) for p in policies]

    # ------------------------------------------------------------ API: devices

    def query_devices(self, body: Any) -> Record:
        """POST /o/{org}/devices (and /devices): ``{items, metadata}``.

        Only the NESTED ``query.policy_id`` filters by policy; a top-level ``policy_id`` is ignored,
        like Addigy does. With ``desired_fact_identifiers`` only those facts are returned.
        """
        q = device_query(body)
        with self.lock:
            devices = select_devices(self.devices.values(), q)
            page = page_slice(
                devices, PageRequest(page=q.page, page_size=min(q.per_page, MAX_DEVICES_PER_PAGE))
            )
            items = [self._render_device(d, q.desired) for d in page.items]
            return {"items": items, "metadata": metadata(page, len(items))}

    def _render_device(self, device: Record, desired: list[str] | None) -> Record:
        facts = device["facts"]
        if facts is None:  # a device Addigy holds no facts for: served as null, like Addigy does
            shown = None
        elif desired:
            shown = {k: dict(facts[k]) for k in desired if k in facts}
        else:
            shown = {k: dict(v) for k, v in facts.items()}
        for v in (shown or {}).values():
            if isinstance(v.get("value"), list):
                v["value"] = list(v["value"])
        return {
            "agentid": device["agentid"],
            "orgid": device["orgid"],
            "audit_date": device["audit_date"],
            "agent_audit_date": device["agent_audit_date"],
            "facts": shown,
        }

    def policy_assignments(self, agentid: str) -> list[str]:
        """GET /o/{org}/devices/{agent_id}/policy-assignments."""
        with self.lock:
            device = self.devices.get(agentid)
            if device is None:
                raise AddigyNotFound(f"device {agentid} not found")
            return self._policy_chain(device["policy_id"])

    def _policy_chain(self, policy_id: str | None) -> list[str]:
        chain: list[str] = []
        while policy_id and policy_id not in chain:
            chain.append(policy_id)
            policy_id = (self.policies.get(policy_id) or {}).get("parent") or None
        return chain

    # ------------------------------------------------------------ API: alerts

    def query_alerts(self, body: Any) -> Record:
        """POST /oa/monitoring/alerts/query: ``{items, metadata}``; ``per_page`` must be 1..100."""
        q = alert_query(body)
        with self.lock:
            alerts = select_alerts(self.alerts.values(), q)
            page = page_slice(alerts, PageRequest(page=q.page, page_size=q.per_page))
            items = [copy.deepcopy(a) for a in page.items]
            return {"items": items, "metadata": metadata(page, len(items))}

    def alert_action(self, action: str, body: Any) -> list[Record]:
        """POST /o/{org}/monitoring/alerts/{acknowledge|resolve|mute} with ``{"alert_ids": [...]}``."""
        if action not in ("acknowledge", "resolve", "mute"):
            raise AddigyError(f"unknown action '{action}' (acknowledge, resolve or mute)")
        if not isinstance(body, Mapping):
            raise AddigyError("request body must be a JSON object")
        ids = body.get("alert_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise AddigyError("alert_ids must be a non-empty array of alert ids")
        with self.lock:
            out = []
            for aid in ids:
                alert = self.alerts.get(aid)
                if alert is None:
                    continue
                self._transition(alert, action, days=body.get("days_to_mute"))
                out.append(copy.deepcopy(alert))
            return out

    def _transition(self, alert: Record, action: str, *, days: Any = None) -> None:
        now = self.now()
        if action == "acknowledge":
            if alert["status"] == "Unattended":
                alert["status"] = "Acknowledged"
                alert["acknowledged_date"] = now
        elif action == "resolve":
            if alert["status"] != "Resolved":
                alert["status"] = "Resolved"
                alert["resolved_date"] = now
        elif action == "mute":
            alert["muted"] = True
            alert["days_to_mute"] = days if isinstance(days, int) else 7

    # ------------------------------------------------------------ admin: policies

    def add_policy(
        self,
        name: str,
        *,
        policy_id: str | None = None,
        parent: str | None = None,
        connectwise_account_id: int | None = None,
        **extra: Any,
    ) -> Record:
        """Create a policy; ``connectwise_account_id`` links it to a ConnectWise company id."""
        with self.lock:
            pid = policy_id or f"{next(self._policy_seq):08x}-pol0-4000-8000-{len(self.policies):012x}"
            policy = {
                "policyId": pid,
                "name": name,
                "parent": parent or "",
                "orgid": self.org_id,
                "connectwise_account_id": connectwise_account_id,
                "color": extra.pop("color", "#0d6efd"),
                "icon": extra.pop("icon", "fa fa-folder"),
                "creation_time": extra.pop("creation_time", self.now()),
                **extra,
            }
            self.policies[pid] = policy
            return copy.deepcopy(policy)

    def link_policy(self, policy_id: str, connectwise_account_id: int | None) -> Record:
        """Link (or, with ``None``, unlink) a policy to a ConnectWise company."""
        with self.lock:
            policy = self._policy(policy_id)
            policy["connectwise_account_id"] = connectwise_account_id
            return copy.deepcopy(policy)

    def _policy(self, policy_id: str) -> Record:
        policy = self.policies.get(policy_id)
        if policy is None:
            raise KeyError(f"no policy {policy_id!r}")
        return policy

    def policy(self, name_or_id: str) -> Record:
        """Look a policy up by id or (case-insensitive) name."""
        with self.lock:
            if name_or_id in self.policies:
                return copy.deepcopy(self.policies[name_or_id])
            for p in self.policies.values():
                if p["name"].casefold() == name_or_id.casefold():
                    return copy.deepcopy(p)
            raise KeyError(f"no policy {name_or_id!r}")

    # ------------------------------------------------------------ admin: devices

    def add_device(
        self,
        policy_id: str | None,
        facts: Mapping[str, Any] | None,
        *,
        agentid: str | None = None,
        audit_date: str | None = None,
    ) -> Record:
        """Add a device. ``facts`` values may be bare values, ``FactError("...")`` or full
        ``{value, type, error_msg}`` dicts; leave a fact out to make it missing. ``facts=None``
        is a device Addigy has no facts for yet (served as ``"facts": null``)."""
        with self.lock:
            if policy_id is not None:
                self._policy(policy_id)
            aid = agentid or f"{next(self._device_seq):08x}-a9e7-4d1c-8b2f-{len(self.devices):012x}"
            if aid in self.devices:
                raise ValueError(f"device {aid} already exists")
            stamp = audit_date or self.now()
            device: Record = {
                "agentid": aid,
                "orgid": self.org_id,
                "policy_id": policy_id,
                "audit_date": stamp,
                "agent_audit_date": stamp,
                "facts": None if facts is None else {},
            }
            if facts is not None:
                self._write_facts(device, facts)
            self._sync_policy_fact(device)
            self.devices[aid] = device
            return self._render_device(device, None)

    def add_device_record(self, device: Record, *, key: str | None = None) -> None:
        """Bulk path for generators: store a prepared device dict (no checks).

        ``key`` stores a second record under another key, e.g. a Mac restored from another Mac's
        backup that reports the same agent id (Addigy then lists two devices with one agent id).
        """
        self.devices[key or device["agentid"]] = device

    def remove_device(self, agentid: str) -> None:
        with self.lock:
            if self.devices.pop(agentid, None) is None:
                raise KeyError(f"no device {agentid!r}")

    def move_device(self, agentid: str, policy_id: str | None) -> Record:
        """Move a device to another policy (``None``: no policy)."""
        with self.lock:
            device = self._device(agentid)
            if policy_id is not None:
                self._policy(policy_id)
            device["policy_id"] = policy_id
            self._sync_policy_fact(device)
            device["audit_date"] = self.now()
            return self._render_device(device, None)

    def set_facts(self, agentid: str, facts: Mapping[str, Any]) -> Record:
        """Change facts (same value forms as ``add_device``)."""
        with self.lock:
            device = self._device(agentid)
            self._write_facts(device, facts)
            device["audit_date"] = self.now()
            return self._render_device(device, None)

    def remove_fact(self, agentid: str, identifier: str) -> None:
        with self.lock:
            (self._device(agentid)["facts"] or {}).pop(identifier, None)

    def _device(self, agentid: str) -> Record:
        device = self.devices.get(agentid)
        if device is None:
            raise KeyError(f"no device {agentid!r}")
        return device

    def _write_facts(self, device: Record, facts: Mapping[str, Any]) -> None:
        if device["facts"] is None:
            device["facts"] = {}
        for ident, value in facts.items():
            default_type = self.facts.get(ident, ("", "string"))[1]
            if isinstance(value, FactError):
                device["facts"][ident] = {"value": None, "type": default_type, "error_msg": value.message}
            elif isinstance(value, Mapping) and "value" in value:
                device["facts"][ident] = {
                    "value": value.get("value"),
                    "type": value.get("type") or _fact_type(value.get("value"), default_type),
                    "error_msg": value.get("error_msg"),
                }
            else:
                device["facts"][ident] = {
                    "value": value,
                    "type": _fact_type(value, default_type),
                    "error_msg": None,
                }

    def _sync_policy_fact(self, device: Record) -> None:
        if device["facts"] is None:
            return
        device["facts"]["policy_ids"] = {
            "value": self._policy_chain(device["policy_id"]),
            "type": "list",
            "error_msg": None,
        }

    def device(self, agentid: str) -> Record:
        with self.lock:
            return self._render_device(self._device(agentid), None)

    def devices_in(self, policy: str | None) -> list[Record]:
        """Devices of a policy (by id or name); ``None``: devices in no policy."""
        with self.lock:
            pid = None if policy is None else self.policy(policy)["policyId"]
            return [self._render_device(d, None) for d in self.devices.values() if d["policy_id"] == pid]

    # ------------------------------------------------------------ admin: alerts

    def raise_alert(
        self,
        agentid: str,
        name: str,
        *,
        level: str = "warning",
        category: str = "System",
        fact_identifier: str | None = None,
        value: Any = None,
        send_ticket: bool = True,
        alert_id: str | None = None,
        created_date: str | None = None,
    ) -> Record:
        """A monitoring item fires on a device (status ``Unattended``)."""
        with self.lock:
            device = self._device(agentid)
            aid = alert_id or f"{next(self._alert_seq):024x}"
            alert = {
                "id": aid,
                "agentid": agentid,
                "orgid": self.org_id,
                "policy_id": device["policy_id"],
                "name": name,
                "level": level,
                "category": category,
                "status": "Unattended",
                "fact_identifier": fact_identifier,
                "value": value,
                "send_ticket": send_ticket,
                "created_date": created_date or self.now(),
                "acknowledged_date": None,
                "resolved_date": None,
                "remediation_status": None,
                "muted": False,
            }
            self.alerts[aid] = alert
            return copy.deepcopy(alert)

    def resolve_alert(self, alert_id: str) -> Record:
        """The condition cleared (or someone resolved it in Addigy)."""
        return self._admin_transition(alert_id, "resolve")

    def acknowledge_alert(self, alert_id: str) -> Record:
        return self._admin_transition(alert_id, "acknowledge")

    def _admin_transition(self, alert_id: str, action: str) -> Record:
        with self.lock:
            alert = self.alerts.get(alert_id)
            if alert is None:
                raise KeyError(f"no alert {alert_id!r}")
            self._transition(alert, action)
            return copy.deepcopy(alert)

    def alert(self, alert_id: str) -> Record:
        with self.lock:
            if alert_id not in self.alerts:
                raise KeyError(f"no alert {alert_id!r}")
            return copy.deepcopy(self.alerts[alert_id])
