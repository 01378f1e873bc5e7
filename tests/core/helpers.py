"""Builders for the core tests and an in-memory ConnectWise that satisfies ``ConfigurationWriter``."""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow_provider_connectwise.core.catalogue import Catalogue, settings_template
from airflow_provider_connectwise.core.mapping import MAX_LENGTHS, render_management_link
from airflow_provider_connectwise.core.settings import ResolvedSettings, resolve_settings

DATA = Path(__file__).resolve().parents[1] / "data" / "core"
TEMPLATE = "https://app.addigy.com/devices/{agentid}"
ACME = 250
BETA = 251
ACTIVE = 1
INACTIVE = 2
ON_HOLD = 3


def load_json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def raw_catalogue() -> dict[str, Any]:
    return load_json("catalogue.json")


def catalogue() -> Catalogue:
    return Catalogue.from_connectwise(**raw_catalogue())


def settings_document(**overrides: Any) -> dict[str, Any]:
    """A valid settings document for the fixture catalogue, with top-level overrides."""
    document = settings_template(catalogue())
    document.update(overrides)
    return document


def resolved(**overrides: Any) -> ResolvedSettings:
    return resolve_settings(settings_document(**overrides), catalogue())


def device(
    agentid: str, name: str | None = "Mac", *, policy: str = "pol-1", serial: str | None = None, **facts: Any
):
    """A device record with bare facts; ``name=None`` leaves the device name out."""
    all_facts: dict[str, Any] = {"serial_number": serial, **facts}
    if name is not None:
        all_facts["device_name"] = name
    return {
        "agentid": agentid,
        "policy_id": policy,
        "facts": {k: v for k, v in all_facts.items() if v is not None},
    }


def configuration(
    config_id: int,
    agentid: str | None = None,
    *,
    owned: bool = True,
    status: int = ACTIVE,
    company: int = ACME,
    type_id: int = 10,
    **fields: Any,
) -> dict[str, Any]:
    """A raw ConnectWise configuration as the hook returns it (``fields=`` of docs/design.md)."""
    record: dict[str, Any] = {
        "id": config_id,
        "name": fields.pop("name", f"config {config_id}"),
        "deviceIdentifier": agentid,
        "managementLink": render_management_link(TEMPLATE, agentid) if owned and agentid else None,
        "status": {"id": status, "name": {ACTIVE: "Active", INACTIVE: "Inactive"}.get(status, "Other")},
        "type": {"id": type_id, "name": "Managed Workstation"},
        "company": {
            "id": company,
            "identifier": "AcmeCorp" if company == ACME else f"C{company}",
            "name": "Acme Corp",
        },
        "_info": {"lastUpdated": "2025-01-31T10:00:00Z"},
    }
    record.update(fields)
    return record


class FakeConnectWise:
    """Configurations in memory; the writer's three methods, with failures and a lost answer on demand.

    It rejects what ConnectWise rejects (missing required fields, values over the maximum length),
    so a plan that would fail against the real API fails here too.
    """

    def __init__(self, configurations: list[dict[str, Any]] | None = None) -> None:
        self.configurations: dict[int, dict[str, Any]] = {
            c["id"]: copy.deepcopy(c) for c in configurations or ()
        }
        self._ids = itertools.count(max(self.configurations, default=1000) + 1)
        self.calls: list[tuple[str, Any]] = []
        self.fail: dict[str, Exception] = {}
        self.lose_create_answer: set[str] = set()
        self.before_write: Callable[[], None] | None = None
        self._lock = threading.Lock()

    # reads ------------------------------------------------------------------------------------

    def company_configurations(self, company_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return [
                copy.deepcopy(c) for c in self.configurations.values() if c["company"]["id"] == company_id
            ]

    def find_configuration(self, company_id: int, agentid: str) -> dict[str, Any] | None:
        with self._lock:
            self.calls.append(("find", agentid))
            for config in sorted(self.configurations.values(), key=lambda c: c["id"]):
                if (
                    config["company"]["id"] == company_id
                    and (config.get("deviceIdentifier") or "").lower() == agentid.lower()
                ):
                    return copy.deepcopy(config)
        return None

    # writes -----------------------------------------------------------------------------------

    def _check(self, record: dict[str, Any]) -> None:
        for key, limit in MAX_LENGTHS.items():
            value = record.get(key)
            if isinstance(value, str) and len(value.encode("utf-16-le")) // 2 > limit:
                raise ValueError(f"400 InvalidObject: {key} is longer than {limit}")

    def create_configuration(
        self, body: dict[str, Any], *, find_existing: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any]:
        if self.before_write:
            self.before_write()
        agentid = body.get("deviceIdentifier", "")
        self.calls.append(("create", agentid))
        if agentid in self.fail:
            raise self.fail[agentid]
        for key in ("name", "type", "company"):
            if not body.get(key):
                raise ValueError(f"400 InvalidObject: {key} is required")
        self._check(body)
        with self._lock:
            record = {"id": next(self._ids), **copy.deepcopy(body)}
            self.configurations[record["id"]] = record
        if agentid in self.lose_create_answer:
            self.lose_create_answer.discard(agentid)
            raise TimeoutError("read timed out; the configuration may have been created")
        return copy.deepcopy(record)

    def patch_configuration(self, configuration_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        if self.before_write:
            self.before_write()
        self.calls.append(("patch", configuration_id))
        with self._lock:
            record = self.configurations.get(configuration_id)
        if record is None:
            raise LookupError(f"404 configuration {configuration_id} not found")
        agentid = record.get("deviceIdentifier") or ""
        if agentid in self.fail:
            raise self.fail[agentid]
        updated = {**record, **copy.deepcopy(changes)}
        self._check(updated)
        with self._lock:
            self.configurations[configuration_id] = updated
        return copy.deepcopy(updated)

    @property
    def writes(self) -> list[tuple[str, Any]]:
        return [call for call in self.calls if call[0] in ("create", "patch")]
