"""What the ConnectWise page shows: link statuses, run references, policy and device rows, pages.

Records with their labels in words and nothing else; :mod:`.model` reads the Devices
Binding records into them and picks what each page shows. Pure Python (no Airflow).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_provider_connectwise.core.binding_report import LinkStatus

#: Where a link came from, in words.
LINK_SOURCES = {
    "settings": "the settings document (policy_links)",
    "airflow": "linked in Airflow",
    "mdm": "the MDM's own record",
}
#: A link's mode, in words (``all`` needs no word).
MODE_LABELS = {"inventory": "inventory only", "tickets": "tickets only", "paused": "paused"}

#: Device lines shown at most in one table (failed first).
MAX_ROWS = 1000

#: A device line's states (the binding table's filters).
STATES = ("linked", "failed", "unlinked")
#: What the binding did to a device, in words.
ACTION_LABELS = {
    "create": "create",
    "update": "update",
    "deactivate": "deactivate",
    "none": "no change",
    "fail": "not written",
}


@dataclass(frozen=True)
class Status:
    """A link status as shown: the seed's icon colour, a word, and what it means."""

    value: str
    icon: str
    label: str
    description: str


STATUSES: dict[str, Status] = {
    status.value: Status(status.value, status.icon, label, status.description)
    for status, label in (
        (LinkStatus.NOT_LINKED, "Not linked"),
        (LinkStatus.LINKED, "Linked"),
        (LinkStatus.PARTIAL, "Partial"),
    )
}
#: Order of the summary and of the legend.
STATUS_ORDER = ("partial", "linked", "not_linked")


@dataclass(frozen=True)
class RunRef:
    """The DAG run (and task) a record comes from.

    :param dag_id: the DAG.
    :param run_id: the run.
    :param recorded_at: when the task recorded the binding (the XCom's timestamp, UTC).
    :param state: the run's state (``queued``, ``running``, ``success``, ``failed``…).
    :param run_type: ``manual``, ``scheduled``…
    :param conf_policy: the ``policy`` of the run's conf (manual sync), ``None`` when absent.
    :param triggered_by: the user who triggered the run, when Airflow recorded one.
    :param run_after: when the run was due.
    """

    dag_id: str
    run_id: str
    recorded_at: datetime | None = None
    state: str | None = None
    run_type: str | None = None
    conf_policy: str | None = None
    triggered_by: str | None = None
    run_after: datetime | None = None

    @property
    def covers_every_policy(self) -> bool:
        """Whether the run bound every policy (its conf names no one policy)."""
        return not self.conf_policy

    @property
    def source(self) -> str:
        """What kind of run it is, in words."""
        kind = "scheduled binding" if self.run_type == "scheduled" else "manual sync"
        return kind + (" of one policy" if self.conf_policy else "")

    @property
    def active(self) -> bool:
        """Whether the run is still to finish."""
        return self.state in ("queued", "running", "restarting", "up_for_retry", "scheduled")


@dataclass(frozen=True)
class BindingRecord:
    """One Devices Binding record (the XCom ``connectwise_binding``) and its run."""

    run: RunRef
    value: Any


@dataclass(frozen=True)
class PolicyRow:
    """One policy's line: its icon, company and device counts, and the run it comes from."""

    policy_id: str
    name: str
    company_id: int | None
    company_name: str
    status: Status
    devices: int
    states: dict[str, int]
    run: RunRef
    error: str | None = None
    #: ``settings``, ``airflow``, ``mdm`` (``None``: not linked, or a record from before sources)
    link_source: str | None = None
    mode: str = "all"
    site_id: int | None = None
    site_name: str = ""

    @property
    def link_source_label(self) -> str:
        """Where the link came from, in words (empty when unknown)."""
        return LINK_SOURCES.get(self.link_source or "", "")

    @property
    def mode_label(self) -> str:
        """The link's switch in words (empty for ``all``)."""
        return MODE_LABELS.get(self.mode, "")

    @property
    def title(self) -> str:
        """The policy's name, or its id when it has none."""
        return self.name or self.policy_id

    @property
    def company(self) -> str:
        """The company as people know it (identifier, else id), empty when not linked."""
        if self.company_id is None:
            return ""
        return self.company_name or f"company {self.company_id}"

    @property
    def pending(self) -> int:
        """Devices Retry Pending would write again."""
        return self.states.get("failed", 0)


@dataclass(frozen=True)
class DeviceRow:
    """One line of the binding table."""

    device_name: str
    agentid: str
    action: str
    configuration_id: int | None
    configuration_url: str | None
    state: str
    error: str
    warnings: tuple[str, ...]

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


@dataclass(frozen=True)
class Table:
    """A binding table as shown: the lines of one state (or all), at most :data:`MAX_ROWS`."""

    rows: list[DeviceRow]
    #: lines in the chosen state (``rows`` may hold fewer)
    total: int
    #: lines in every state
    all_count: int
    counts: dict[str, int]
    state: str | None = None


@dataclass(frozen=True)
class RunSummary:
    """A recorded run in the list of recent runs."""

    run: RunRef
    dry_run: bool
    totals: dict[str, int]
    policies: int


@dataclass
class Overview:
    """The main page: every policy of the latest records, and the recent runs."""

    policies: list[PolicyRow] = field(default_factory=list)
    recent: list[RunSummary] = field(default_factory=list)
    skipped: int = 0

    @property
    def counts(self) -> dict[str, int]:
        """Policies per status, in :data:`STATUS_ORDER`."""
        counts = dict.fromkeys(STATUS_ORDER, 0)
        for policy in self.policies:
            counts[policy.status.value] += 1
        return counts


@dataclass
class PolicyPage:
    """A policy page: its line, the binding table of its latest record, its earlier lines."""

    policy: PolicyRow
    devices: list[DeviceRow]
    history: list[PolicyRow] = field(default_factory=list)
    dry_run_only: bool = False


@dataclass
class RunPage:
    """A run's page: every policy and every device result the run recorded."""

    run: RunRef
    dry_run: bool
    policies: list[PolicyRow]
    devices: list[DeviceRow]
    totals: dict[str, int]
    actions: dict[str, int]
    policy_errors: dict[str, str]
