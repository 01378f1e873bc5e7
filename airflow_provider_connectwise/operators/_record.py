"""The end of a binding task: log the Devices Binding, record it for the page, decide the task's state."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_connectwise.core.apply import DeviceResult
from airflow_provider_connectwise.core.binding_report import (
    new_failures,
    pending,
    render_binding_table,
    retryable,
)
from airflow_provider_connectwise.core.planning import DeviceAction
from airflow_provider_connectwise.xcom import BINDING_XCOM_KEY, push_record, record_results


def finish_binding(task: BaseOperator, context: Any, record: dict[str, Any]) -> dict[str, Any]:
    """Log the binding, record it for the UI page; fail when a retry may help, or on a new lasting failure.

    A transient failure raises ``AirflowException`` (the task's retries are Retry Pending); a device
    that newly fails for good raises ``AirflowFailException`` once (no retry can cure it); one that
    fails exactly as in the previous record is only logged, so bad data does not keep a DAG red.
    """
    log_binding_table(task, record["results"])
    if record["dry_run"]:
        # a dry run writes nothing: its link status would claim "linked 0" for what it only planned
        for line in record.get("dry_run_summary") or ["DRY RUN: nothing was written"]:
            task.log.info("%s", line)
        push_record(context["ti"], record)
        return record["report"]
    for policy in record["report"]["policies"]:
        task.log.info(
            "policy %s: %s (%s icon) — %s",
            policy["name"] or policy["policy_id"],
            policy["status"],
            policy["icon"],
            ", ".join(f"{k} {v}" for k, v in policy["states"].items()),
        )
    ti = context["ti"]
    # The latest record of an earlier run of this task (this run's own is pushed below); a dry
    # run's record announced nothing, so only a real run's counts.
    previous = ti.xcom_pull(
        task_ids=task.task_id, key=BINDING_XCOM_KEY, include_prior_dates=True, map_indexes=-1, default=None
    )
    real = isinstance(previous, Mapping) and not previous.get("dry_run")
    known_before = record_results(ti, task.task_id, previous, prior=True, failed_only=True) if real else []
    push_record(ti, record)
    results = record["results"]
    left = retryable(results)
    if left:
        raise AirflowException(pending_summary(left, len(results)))
    new = new_failures(results, known_before)
    if new:
        raise AirflowFailException(
            pending_summary(new, len(results), head="newly failed; a retry cannot cure them, fix the data")
        )
    known = pending(results)
    if known:
        task.log.warning(
            "%d devices still fail as in the previous run (shown on the ConnectWise page):\n%s",
            len(known),
            "\n".join(f"  {r.device_name} ({r.agentid}): {r.error}" for r in known[:20]),
        )
    return record["report"]


#: devices per table in the task log: a fleet's binding is logged as tables of 2,000 rows, never
#: rendered as one string of the whole fleet
TABLE_ROWS_PER_LOG = 2_000


def log_binding_table(task: BaseOperator, results: Sequence[DeviceResult | Mapping[str, Any]]) -> None:
    """Log the Devices Binding table, 2,000 devices a table."""
    total = len(results)
    for start in range(0, max(total, 1), TABLE_ROWS_PER_LOG):
        part = results[start : start + TABLE_ROWS_PER_LOG]
        head = "Devices Binding"
        if total > TABLE_ROWS_PER_LOG:
            head += f", devices {start + 1:,}–{start + len(part):,} of {total:,}"
        task.log.info("%s\n%s", head, render_binding_table(part))


def pending_summary(
    left: Sequence[DeviceResult], total: int, *, head: str = "are not linked; Retry Pending writes only these"
) -> str:
    lines = [f"{len(left)} of {total} devices {head}:"]
    lines += [f"  {r.device_name} ({r.agentid}): {r.error}" for r in left[:20]]
    if len(left) > 20:
        lines.append(f"  … and {len(left) - 20} more (see the binding table above)")
    return "\n".join(lines)


def never_applied(
    batches: Iterable[Mapping[str, Any]], results: Sequence[DeviceResult]
) -> list[DeviceResult]:
    """Devices of batches whose apply task recorded no result (it failed before writing)."""
    seen = {(r.company_id, r.agentid) for r in results}
    missing = []
    for batch in batches:
        for action in (DeviceAction.from_dict(raw) for raw in batch.get("actions", [])):
            if (action.company_id, action.agentid) not in seen:
                missing.append(
                    DeviceResult(
                        action.agentid,
                        action.device_name,
                        action.policy_ids,
                        action.company_id,
                        action.action,
                        action.configuration_id,
                        "failed",
                        f"not applied: the apply task of {batch.get('label', 'its batch')} recorded no result",
                        action.warnings,
                        transient=True,
                    )
                )
    return missing


def unique_policies(policies: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return list({str(p["policy_id"]): dict(p) for p in policies}.values())
