"""The contracts between the binding tasks and the ConnectWise page: XCom keys, rows, references.

A fleet never travels in one XCom row: the device fetch pushes rows of 500 devices, the plan task
one row per batch and the results that need no write in rows of 2,000, the report its device
results in rows of 2,000, and each task returns small references (``{"task_id", "key", "size"}``)
that the next one pulls (:func:`pulled`). The UI page reads the same keys (``plugins/records.py``).
Every task after the switch reads the validated settings from the validate task's XCom the same way
(:func:`resolved_settings`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_connectwise.core.planning import Batch
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.flows.binding_plan import DeviceSource

#: XCom key of the Devices Binding record (read by the Airflow UI page).
BINDING_XCOM_KEY = "connectwise_binding"
#: XCom keys of the rows holding a binding record's device results (``results_rows`` names them):
#: a fleet-sized record is no single XCom row of tens of MB.
BINDING_RESULTS_XCOM_KEY = BINDING_XCOM_KEY + "_results_{}"
BINDING_RESULTS_PER_ROW = 2_000
#: XCom key under which each apply try records its device results (kept even when the try fails).
RESULTS_XCOM_KEY = "binding_results"
#: XCom keys under which the plan task pushes each batch, and the results that need no write in
#: slices: one row each, far below what the metadata database holds comfortably (a plan of
#: 100,000 devices in one row would be tens of MB). The plan task returns only small references,
#: ``{"task_id", "key", "label", "size"}``, which the apply task maps over and pulls.
BATCH_XCOM_KEY = "binding_batch_{:05d}"
DONE_XCOM_KEY = "binding_done_{:05d}"
DEVICES_XCOM_KEY = "devices_{:05d}"
#: results that need no write per XCom row (a result is about 250 bytes of JSON)
DONE_PER_ROW = 2000
#: devices per XCom row of the device fetch (a device with its facts is about 1 KB of JSON)
DEVICES_PER_ROW = 500


# --- the validated settings (the validate task's XCom, read by every task after it) --------------

#: where the validated settings carry the ConnectWise codebase for the tasks downstream
CODEBASE_KEY = "connectwise_codebase"


def validated_settings(value: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
    """The validate task's XCom as a mapping (a JSON text when it came through a template)."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else {}
    return value or {}


def resolved_settings(value: Mapping[str, Any] | str | None) -> ResolvedSettings:
    """The validate task's XCom as ResolvedSettings; fails clearly when there is none (a task with
    trigger rule ``all_done`` running after the switch failed)."""
    document = validated_settings(value)
    if not document:
        raise AirflowFailException("no validated settings: the validate_settings task did not succeed")
    return ResolvedSettings.from_dict(document)


def codebase_of(value: Mapping[str, Any] | str | None) -> str | None:
    """The codebase the validate task found, so a later task skips the discovery request."""
    return validated_settings(value).get(CODEBASE_KEY)


# --- the binding's rows ------------------------------------------------------------------------


class PlanRows:
    """The plan task's XCom rows: batches one a row, results that need no write in rows of 2,000."""

    def __init__(self, ti: Any, task_id: str) -> None:
        self.ti, self.task_id = ti, task_id
        self.done: list[dict[str, Any]] = []
        self._held: list[dict[str, Any]] = []
        self._batches = 0

    def results(self, results: list[dict[str, Any]]) -> None:
        self._held += results
        while len(self._held) >= DONE_PER_ROW:
            self._push_done(DONE_PER_ROW)

    def flush(self) -> list[dict[str, Any]]:
        """Push what is held; return the references of every row of results."""
        if self._held:
            self._push_done(len(self._held))
        return self.done

    def _push_done(self, size: int) -> None:
        row, self._held = self._held[:size], self._held[size:]
        self.done.append(push_row(self.ti, self.task_id, DONE_XCOM_KEY.format(len(self.done)), row))

    def batch(self, batch: Batch) -> dict[str, Any]:
        key = BATCH_XCOM_KEY.format(self._batches)
        self._batches += 1
        return {
            **push_row(self.ti, self.task_id, key, batch.to_dict()),
            "label": batch.label,
            "size": len(batch.actions),
        }


def push_record(ti: Any, record: Mapping[str, Any]) -> None:
    """Push the record for the page: its summary in one row, its device results in rows of their own."""
    results = list(record["results"])
    keys = []
    for number, start in enumerate(range(0, len(results), BINDING_RESULTS_PER_ROW)):
        keys.append(BINDING_RESULTS_XCOM_KEY.format(number))
        ti.xcom_push(key=keys[-1], value=results[start : start + BINDING_RESULTS_PER_ROW])
    ti.xcom_push(key=BINDING_XCOM_KEY, value={**record, "results": [], "results_rows": keys})


def record_results(
    ti: Any, task_id: str, record: Any, *, prior: bool = False, failed_only: bool = False
) -> list[Any]:
    """The device results of a binding record pulled from XCom (inline, or in its ``results_rows``).

    :param ti: the task instance.
    :param task_id: the task that pushed the record.
    :param record: the record.
    :param prior: the record is an earlier run's (pull its rows from prior runs).
    :param failed_only: keep only the failed devices' results (a row at a time: what telling a new
        failure from a known one needs, without holding an earlier fleet's every result).
    """
    if not isinstance(record, Mapping):
        return []

    def kept(rows: Any) -> list[Any]:
        rows = list(rows or [])
        if failed_only:
            return [r for r in rows if isinstance(r, Mapping) and r.get("state") == "failed"]
        return rows

    results = kept(record.get("results"))
    for key in record.get("results_rows") or []:
        results += kept(
            ti.xcom_pull(task_ids=task_id, key=key, include_prior_dates=prior, map_indexes=-1, default=None)
        )
    return results


def push_row(ti: Any, task_id: str, key: str, value: Any) -> dict[str, Any]:
    """Push ``value`` as an XCom row of its own; return the small reference a later task pulls."""
    ti.xcom_push(key=key, value=value)
    return {"task_id": task_id, "key": key, "size": len(value) if isinstance(value, list) else 1}


def pulled(ti: Any, value: Any) -> Any:
    """What a reference from :func:`push_row` points to (anything else is the value itself: a batch
    given directly, or by a DAG written before the references)."""
    value = as_mapping(value)
    if not is_reference(value):
        return value
    pulled = ti.xcom_pull(task_ids=value["task_id"], key=value["key"], map_indexes=value.get("map_index", -1))
    if pulled is None:
        raise AirflowException(f"XCom {value['key']!r} of task {value['task_id']!r} is missing")
    return as_mapping(pulled)


def as_mapping(value: Any) -> Mapping[str, Any]:
    return json.loads(value) if isinstance(value, str) else value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, Sequence):
        # index, don't iterate: a mapped task's lazy XCom sequence probes past its end when iterated
        return [value[i] for i in range(len(value))]
    return list(value)


def is_reference(item: Any) -> bool:
    """Whether ``item`` is a reference from :func:`push_row`, not a device or a batch given itself."""
    return (
        isinstance(item, Mapping)
        and "key" in item
        and "task_id" in item
        and not ("agentid" in item or "actions" in item)
    )


def pulled_devices(ti: Any, value: Any) -> DeviceSource:
    """Device records behind the fetch tasks' references (or given directly, flat or per policy),
    pulled row by row each time they are asked for: the plan task never holds the whole fleet.

    A reference names its policy, so a group of companies pulls only its policies' rows (one
    without ``policy_id``, from a run before that, is pulled for every group and filtered)."""
    items = flatten(value)
    references = [item for item in items if is_reference(item)]
    given = [item for item in items if not is_reference(item)]

    def of(policy_ids: AbstractSet[str] | None) -> Iterator[Mapping[str, Any]]:
        for reference in references:
            named = reference.get("policy_id")
            if policy_ids is None or named is None or str(named) in policy_ids:
                yield from pulled(ti, reference)
        yield from given

    return of


def flatten(value: Any) -> list[dict[str, Any]]:
    """A list of device records, or a list of such lists (a mapped task's outputs)."""
    items: list[dict[str, Any]] = []
    for item in as_list(value):
        if isinstance(item, Mapping):
            items.append(dict(item))
        elif item is not None:
            items.extend(dict(i) for i in item)
    return items
