"""The ConnectWise page's model: Devices Binding records in, what each page shows out.

Pure Python (no Airflow, no database): the data layer (``records.py``) turns XCom rows into
:class:`BindingRecord` objects, newest first; the functions here read each record (untrusted)
into the rows of :mod:`.rows` and pick what the pages show.

Decisions:

- A policy's state is that of the most recent record that contains the policy, whichever DAG
  wrote it. Dry runs write nothing, so they never count as a policy's state (they are listed
  among the runs and open on their run page).
- Records come from any DAG whose task records XCom ``connectwise_binding`` (the binding
  operators do), not only the example DAGs. A run without a ``policy`` in its conf lists every
  MDM policy; once such a record is read, older records cannot add a policy, so reading stops.
- A not-linked policy shows the device count its ``policy_links`` task recorded; its link's
  source (settings, Airflow, MDM), site and mode come from the record too.
- A policy's devices are the results naming the policy and its company, deactivations left
  out (the rule of ``core.binding_report``); a run's page shows every result.
- Records are untrusted data: anything that is not of the record's shape is skipped and
  counted, never shown raw; a configuration link is only built from an http(s) template.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from airflow_provider_connectwise.plugins.rows import (
    ACTION_LABELS,
    LINK_SOURCES,
    MAX_ROWS,
    MODE_LABELS,
    STATES,
    STATUS_ORDER,
    STATUSES,
    BindingRecord,
    DeviceRow,
    Overview,
    PolicyPage,
    PolicyRow,
    RunPage,
    RunRef,
    RunSummary,
    Status,
    Table,
)

__all__ = [
    "ACTION_LABELS",
    "BINDING_DAG_ID",
    "LINK_SOURCES",
    "MAX_RECORDS",
    "MAX_ROWS",
    "MODE_LABELS",
    "STATES",
    "STATUSES",
    "STATUS_ORDER",
    "SYNC_DAG_ID",
    "BindingRecord",
    "DeviceRow",
    "Overview",
    "PolicyPage",
    "PolicyRow",
    "RunPage",
    "RunRef",
    "RunSummary",
    "Status",
    "Table",
    "binding_table",
    "build_overview",
    "build_policy_page",
    "build_run_page",
    "configuration_url",
    "is_record",
]

#: The example DAG whose every run records the binding of every policy (task ``link_status``).
BINDING_DAG_ID = "connectwise_device_binding"
#: The default sync DAG (``[connectwise] sync_dag_id``): saving a link triggers it with
#: ``{"policy": id}``; Retry Pending triggers the DAG that recorded the policy's binding.
SYNC_DAG_ID = "connectwise_manual_sync"
#: Records read at most for one page (each may hold a whole fleet).
MAX_RECORDS = 50


def binding_table(rows: list[DeviceRow], state: str | None = None, *, limit: int = MAX_ROWS) -> Table:
    """Cut the lines to one state (``linked``, ``failed``, ``unlinked``; else all) and a page.

    :param rows: every line, failed first.
    :param state: the state to show.
    :param limit: lines at most.
    """
    state = state if state in STATES else None
    chosen = [r for r in rows if state is None or r.state == state]
    counts = dict.fromkeys(STATES, 0)
    for row in rows:
        if row.state in counts:
            counts[row.state] += 1
    return Table(chosen[:limit], len(chosen), len(rows), counts, state)


# --- reading a record -------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _counts(value: Any, keys: Iterable[str]) -> dict[str, int]:
    value = value if isinstance(value, Mapping) else {}
    return {key: _int(value.get(key)) or 0 for key in keys}


def is_record(value: Any) -> bool:
    """Whether ``value`` has the shape of a Devices Binding record.

    :param value: an XCom value.
    """
    if not isinstance(value, Mapping):
        return False
    report = value.get("report")
    return (
        isinstance(report, Mapping)
        and isinstance(report.get("policies"), list)
        and isinstance(value.get("results", []), list)
    )


def _policy_errors(value: Mapping[str, Any]) -> dict[str, str]:
    errors = value.get("policy_errors")
    if not isinstance(errors, Mapping):
        return {}
    return {str(k): _text(v) for k, v in errors.items() if v}


def _policy_links(value: Mapping[str, Any]) -> Mapping[str, Any]:
    links = value.get("policy_links")
    return links if isinstance(links, Mapping) else {}


def _policy_rows(record: BindingRecord) -> Iterator[PolicyRow]:
    errors = _policy_errors(record.value)
    links = _policy_links(record.value)
    for raw in record.value["report"]["policies"]:
        if not isinstance(raw, Mapping) or raw.get("policy_id") in (None, ""):
            continue
        status = STATUSES.get(_text(raw.get("status")))
        if status is None:
            continue
        policy_id = _text(raw["policy_id"])
        link = links.get(policy_id)
        link = link if isinstance(link, Mapping) else {}
        company_id = _int(raw.get("company_id"))
        devices = _int(raw.get("devices")) or 0
        if company_id is None:  # no results for a gray policy: its policy_links task counted them
            devices = _int(link.get("device_count")) or devices
        source = _text(link.get("link_source"))
        mode = _text(link.get("mode"))
        yield PolicyRow(
            policy_id=policy_id,
            name=_text(raw.get("name")),
            company_id=company_id,
            company_name=_text(raw.get("company_name")),
            status=status,
            devices=devices,
            states=_counts(raw.get("states"), STATES),
            run=record.run,
            error=errors.get(policy_id),
            link_source=source if source in LINK_SOURCES else None,
            mode=mode if mode in MODE_LABELS else "all",
            site_id=_int(link.get("site_id")),
            site_name=_text(link.get("site_name")),
        )


def configuration_url(template: Any, configuration_id: int | None) -> str | None:
    """The ConnectWise page of a configuration, from the record's template.

    :param template: ``configuration_url_template`` (``…recid={id}``); only http(s) is used.
    :param configuration_id: the configuration's id.
    """
    if configuration_id is None or not isinstance(template, str) or "{id}" not in template:
        return None
    if not template.lower().startswith(("https://", "http://")):
        return None
    return template.replace("{id}", str(int(configuration_id)))


def _device_rows(record: BindingRecord, policy: PolicyRow | None = None) -> list[DeviceRow]:
    template = record.value.get("configuration_url_template")
    rows = []
    for raw in record.value.get("results", []):
        if not isinstance(raw, Mapping):
            continue
        if policy is not None and not _belongs_to(raw, policy):
            continue
        configuration_id = _int(raw.get("configuration_id"))
        warnings = raw.get("warnings")
        rows.append(
            DeviceRow(
                device_name=_text(raw.get("device_name")) or _text(raw.get("agentid")) or "?",
                agentid=_text(raw.get("agentid")),
                action=_text(raw.get("action")),
                configuration_id=configuration_id,
                configuration_url=configuration_url(template, configuration_id),
                state=_text(raw.get("state")),
                error=_text(raw.get("error")),
                warnings=tuple(_text(w) for w in warnings) if isinstance(warnings, list) else (),
            )
        )
    # what needs a person first, then by name
    rows.sort(key=lambda r: (r.state != "failed", r.device_name.casefold(), r.agentid))
    return rows


def _belongs_to(result: Mapping[str, Any], policy: PolicyRow) -> bool:
    policy_ids = result.get("policy_ids")
    return (
        policy.company_id is not None
        and isinstance(policy_ids, list)
        and policy.policy_id in [_text(p) for p in policy_ids]
        and _int(result.get("company_id")) == policy.company_id
        and result.get("action") != "deactivate"
    )


def _dry_run(record: BindingRecord) -> bool:
    return bool(record.value.get("dry_run"))


def _summary(record: BindingRecord) -> RunSummary:
    report = record.value["report"]
    totals = _counts(report.get("totals"), ("devices", *STATES))
    return RunSummary(
        run=record.run, dry_run=_dry_run(record), totals=totals, policies=len(report["policies"])
    )


def _policy_sort_key(policy: PolicyRow) -> tuple[str, str]:
    return (policy.title.casefold(), policy.policy_id)


# --- the pages --------------------------------------------------------------------------------


def build_overview(records: Iterable[BindingRecord], *, recent: int = 10) -> Overview:
    """Every policy in its latest state, and the most recent runs.

    :param records: Devices Binding records, newest first (read lazily; reading stops as soon
        as nothing older can change the page).
    :param recent: how many runs to list.
    """
    page = Overview()
    latest: dict[str, PolicyRow] = {}
    complete = False
    for record in records:
        if not is_record(record.value):
            page.skipped += 1
            continue
        if len(page.recent) < recent:
            page.recent.append(_summary(record))
        if not complete and not _dry_run(record):
            for row in _policy_rows(record):
                latest.setdefault(row.policy_id, row)
            complete = record.run.covers_every_policy
        if complete and len(page.recent) >= recent:
            break
    page.policies = sorted(latest.values(), key=_policy_sort_key)
    return page


def build_policy_page(
    records: Iterable[BindingRecord], policy_id: str, *, history: int = 8
) -> PolicyPage | None:
    """The policy's latest binding table and its earlier states; ``None`` if no record has it.

    :param records: Devices Binding records, newest first.
    :param policy_id: the MDM policy.
    :param history: how many earlier records of the policy to list.
    """
    page: PolicyPage | None = None
    dry: tuple[PolicyRow, BindingRecord] | None = None
    for record in records:
        if not is_record(record.value):
            continue
        row = next((r for r in _policy_rows(record) if r.policy_id == policy_id), None)
        if row is None:
            continue
        if _dry_run(record):
            dry = dry or (row, record)
            continue
        if page is None:
            page = PolicyPage(policy=row, devices=_device_rows(record, row))
        elif len(page.history) < history:
            page.history.append(row)
        else:
            break
    if page is None and dry is not None:
        row, record = dry
        return PolicyPage(policy=row, devices=_device_rows(record, row), dry_run_only=True)
    return page


def build_run_page(record: BindingRecord) -> RunPage | None:
    """Everything one run recorded; ``None`` when the record is not of the expected shape.

    :param record: the run's Devices Binding record.
    """
    if not is_record(record.value):
        return None
    report = record.value["report"]
    summary = _summary(record)
    return RunPage(
        run=record.run,
        dry_run=summary.dry_run,
        policies=sorted(_policy_rows(record), key=_policy_sort_key),
        devices=_device_rows(record),
        totals=summary.totals,
        actions=_counts(report.get("actions"), ACTION_LABELS),
        policy_errors=_policy_errors(record.value),
    )
