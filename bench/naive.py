"""The naive client: one device at a time, look it up, then create or update it.

What a first script against the two APIs does, with plain ``requests`` and nothing clever:

* reads the policies and, page by page (100 devices, like our hook), the devices of each linked
  policy from Addigy;
* for each device, in order: ``GET /company/configurations?conditions=deviceIdentifier="..."``
  (asking only for the fields it compares); absent: ``POST`` the configuration; present: compare
  and ``PATCH`` the fields that differ, or skip it when nothing differs (so a no-op re-sync
  costs one GET per device and no write).

To be fair on what is not about requests, it gets the resolved settings (ids of types and
statuses) for free, and computes each configuration with the same pure mapping as ours
(``core.mapping.map_device`` and the type rules), so both write identical configurations.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from airflow_provider_connectwise.core.mapping import map_device
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.core.type_rules import choose_configuration_type

PER_PAGE = 100
TIMEOUT = 30


def linked_devices(session: requests.Session, addigy_url: str) -> list[tuple[int, dict[str, Any]]]:
    """(company id, device) for every device of every policy linked to a company, read from Addigy."""
    org = session.get(f"{addigy_url}/configuration/whoami", timeout=TIMEOUT).json()["organization_id"]
    policies = session.post(f"{addigy_url}/oa/policies/query", json={}, timeout=TIMEOUT).json()
    devices = []
    for policy in policies:
        company_id = policy.get("connectwise_account_id")
        if not company_id:
            continue
        page = 1
        while True:
            body = {"per_page": PER_PAGE, "page": page, "query": {"policy_id": policy["policyId"]}}
            answer = session.post(f"{addigy_url}/o/{org}/devices", json=body, timeout=TIMEOUT).json()
            devices += [(int(company_id), device) for device in answer["items"]]
            if page >= answer["metadata"]["page_count"]:
                break
            page += 1
    return devices


def desired_configuration(
    device: dict[str, Any], company_id: int, settings: ResolvedSettings
) -> dict[str, Any]:
    """The configuration a device should have (the same fields ours writes)."""
    mapped = map_device(
        device, settings.field_mapping, management_link_template=settings.management_link_template
    )
    type_id = choose_configuration_type(mapped.facts, settings.type_rules, settings.default_type_id)
    return {
        **mapped.fields,
        "status": {"id": settings.active_status_id},
        "type": {"id": type_id},
        "company": {"id": company_id},
    }


def differences(desired: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """The fields whose value differs (references compared by id)."""
    changes = {}
    for key, value in desired.items():
        if isinstance(value, dict):
            if (found.get(key) or {}).get("id") != value["id"]:
                changes[key] = value
        elif str(found.get(key) or "").strip() != value:
            changes[key] = value
    return changes


class Paced:
    """Spaces a session's requests ``60 / per_minute`` seconds apart (the production budget)."""

    def __init__(self, session: requests.Session, per_minute: float | None) -> None:
        self.session = session
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.next = 0.0

    def _wait(self) -> None:
        now = time.monotonic()
        if self.next > now:
            time.sleep(self.next - now)
        self.next = max(now, self.next) + self.interval

    def get(self, *args: Any, **kwargs: Any) -> requests.Response:
        self._wait()
        return self.session.get(*args, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> requests.Response:
        self._wait()
        return self.session.post(*args, **kwargs)

    def patch(self, *args: Any, **kwargs: Any) -> requests.Response:
        self._wait()
        return self.session.patch(*args, **kwargs)


def bind_one(session: requests.Session | Paced, url: str, desired: dict[str, Any]) -> str:
    """Look the device's configuration up, then create it, update it or leave it; return what was done."""
    condition = f'deviceIdentifier="{desired["deviceIdentifier"]}"'
    # Only the fields it compares: ~2 ms less per look-up on the sandbox, in the naive client's favour.
    fields = ",".join(
        ["id", *(f"{key}/id" if isinstance(value, dict) else key for key, value in desired.items())]
    )
    found = session.get(url, params={"conditions": condition, "fields": fields}, timeout=TIMEOUT)
    if not found.ok:
        return "failed"
    if not found.json():
        return "created" if session.post(url, json=desired, timeout=TIMEOUT).ok else "failed"
    current = found.json()[0]
    changes = differences(desired, current)
    if not changes:
        return "unchanged"
    patch = [{"op": "replace", "path": key, "value": value} for key, value in changes.items()]
    return "updated" if session.patch(f"{url}/{current['id']}", json=patch, timeout=TIMEOUT).ok else "failed"


def run(
    *,
    api_url: str,
    addigy_url: str,
    connectwise_headers: dict[str, str],
    addigy_headers: dict[str, str],
    settings: dict[str, Any],
    label: str,
    budget: float | None = None,
) -> dict[str, Any]:
    """Bind every device, one at a time; return the wall time and what was done.

    :param api_url: ConnectWise API root (``.../apis/3.0``).
    :param addigy_url: Addigy API root (``.../api/v2``).
    :param connectwise_headers: auth headers (``Sandbox.connectwise_headers()``).
    :param addigy_headers: Addigy's API key header.
    :param settings: resolved settings (``ResolvedSettings.to_dict()``).
    :param label: prefix of the progress lines.
    :param budget: ConnectWise requests per minute (spaced evenly, as a polite client would); None: no limit.
    """
    resolved = ResolvedSettings.from_dict(settings)
    addigy = requests.Session()
    addigy.headers.update(addigy_headers)
    session = requests.Session()
    session.headers.update({**connectwise_headers, "Content-Type": "application/json"})
    cw = Paced(session, budget)
    url = f"{api_url}/company/configurations"
    done = dict.fromkeys(("created", "updated", "unchanged", "failed"), 0)

    started = last_report = time.perf_counter()
    devices = linked_devices(addigy, addigy_url)
    for position, (company_id, device) in enumerate(devices, 1):
        done[bind_one(cw, url, desired_configuration(device, company_id, resolved))] += 1
        now = time.perf_counter()
        if now - last_report >= 30 or position == len(devices):
            last_report = now
            print(f"{label} {position:,}/{len(devices):,} devices ({now - started:.0f} s)", flush=True)
    return {"wall": time.perf_counter() - started, "devices": len(devices), **done}
