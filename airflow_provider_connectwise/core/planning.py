"""Reconcile a company's devices with its ConnectWise configurations -> one action per device.

All policies linked to one company are planned together (:func:`plan_company`), so a device that
moves between two policies of the same company is never deactivated and re-created. The plan is
the dry run; its write actions are cut into :class:`Batch` es for dynamic task mapping; each action
carries its full desired state, so a later try can re-plan it against a fresh read
(:func:`replan_action`) and never create a configuration twice.

Decisions:

- Matching: ``deviceIdentifier`` equals the agent id (trimmed, case-insensitive). Several
  matches: ours first (see ownership), then the active one, then the lowest id; the others are
  left untouched and named in a warning.
- Ownership (``docs/design.md``): ``managementLink`` equals the template rendered with the
  configuration's own ``deviceIdentifier`` (trimmed, case-insensitive). Only our configurations
  are ever deactivated. A configuration matched by agent id or adopted by serial number is made
  ours by the update, which writes both identity fields (the seed updates an existing
  configuration of the device); one that is neither matched nor adopted never appears in any
  action, whatever its name or serial number.
- Adoption by serial number (``adopt_by_serial``): only a configuration with an empty
  ``deviceIdentifier``, only when the serial is a real one (placeholders such as
  "Not Available" or "0000000" are ignored) and unique among the company's devices; among several
  candidates, only a single active one. Otherwise a new configuration is created, with a warning.
- Duplicate agent ids in the input: the same device listed for several policies (same serial
  number, or neither has one) is merged, keeping all policy ids; a different device is ``fail``.
  A device that fails mapping still counts as present, so its configuration is not deactivated.
- Changes: only mapped fields whose value differs (trimmed; case-sensitive, so renaming
  "macbook" to "MacBook" is synced), the status when not active, and the identity fields when
  they differ (adoption, a changed template). Never ``type`` or ``company``, never a protected
  field, never a field whose fact is missing (it is not in ``desired``). ``null`` and a missing
  field read as empty.
- Deactivation: our configurations whose ``deviceIdentifier`` matches no device of the company,
  unless already in the inactive status. Orphans (:func:`plan_orphans`, companies that lost their
  last linked policy): our configurations in the *active* status only, as found by a sweep.
- A ``deactivate`` re-planned after it was applied keeps its action with empty ``changes``: no
  write, and the device still reads as unlinked.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from airflow_provider_connectwise.core import printable, text_table
from airflow_provider_connectwise.core.mapping import (
    DeviceMappingError,
    MappedDevice,
    clean_text,
    map_device,
    render_management_link,
)
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.core.type_rules import choose_configuration_type

__all__ = [
    "ACTIONS",
    "WRITE_ACTIONS",
    "Batch",
    "CompanyPlan",
    "ConfigurationIndex",
    "DeviceAction",
    "Scope",
    "index_configurations",
    "is_owned",
    "plan_company",
    "plan_orphans",
    "render_plan",
    "replan_action",
]

Action = Literal["create", "update", "deactivate", "none", "fail"]
ACTIONS: tuple[str, ...] = ("create", "update", "deactivate", "none", "fail")
WRITE_ACTIONS: tuple[str, ...] = ("create", "update", "deactivate")

# Fields of ``desired`` that are set on create only.
_CREATE_ONLY = ("type", "company")

# Serial numbers that firmware and virtual machines report when they have none.
_PLACEHOLDER_SERIALS = frozenset(
    {
        "0",
        "123456789",
        "0123456789",
        "default string",
        "n/a",
        "na",
        "none",
        "not applicable",
        "not available",
        "not specified",
        "null",
        "system serial number",
        "to be filled by o.e.m.",
        "unknown",
    }
)


# --- the scope of a run ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which configurations a run may deactivate: only those of companies whose complete device set it holds.

    A run that lists every policy of the MDM (the scheduled binding) holds the complete device set of
    every company: of the linked ones (all their policies' devices are read) and of those no policy
    links to any more (none), so it may also sweep the latter. A run of some policies only (a manual
    sync of one policy reads every policy linked to that policy's company) holds just those companies.
    Devices handed over by another pipeline hold no company unless the caller says so. The default
    scope deactivates nothing.

    :param all_policies: the run lists every MDM policy.
    :param companies: companies whose complete device set the run holds (besides ``all_policies``).
    """

    all_policies: bool = False
    companies: frozenset[int] = frozenset()

    def holds(self, company_id: int) -> bool:
        """Return whether the run holds the complete device set of this company.

        :param company_id: a ConnectWise company id.
        """
        return self.all_policies or company_id in self.companies

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (the XCom shape)."""
        return {"all_policies": self.all_policies, "companies": sorted(self.companies)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Scope:
        """Rebuild a scope from :meth:`to_dict` output; ``None`` or junk is the empty scope.

        :param data: the dict.
        """
        if not isinstance(data, Mapping):
            return cls()
        companies = data.get("companies") or ()
        return cls(
            all_policies=data.get("all_policies") is True,
            companies=frozenset(c for c in companies if isinstance(c, int) and not isinstance(c, bool)),
        )


# --- the records --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceAction:
    """What to do for one device (or one configuration, for a deactivation) in one company."""

    agentid: str | None
    device_name: str
    policy_ids: tuple[str, ...]
    company_id: int
    action: Action
    configuration_id: int | None = None
    #: the full desired state in ConnectWise's shape (references as ``{"id": n}``): for a device
    #: name, deviceIdentifier, the mapped fields, managementLink, status, type and company (the
    #: last two are only written on create); for a deactivation, the inactive status
    desired: dict[str, Any] = field(default_factory=dict)
    #: field -> new value, what an update/deactivate writes
    changes: dict[str, Any] = field(default_factory=dict)
    #: fields never overwritten on update (kept so that a re-plan honours them)
    protected_fields: tuple[str, ...] = ()
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def is_write(self) -> bool:
        """Whether applying this action writes to ConnectWise."""
        return self.action == "create" or (self.action in ("update", "deactivate") and bool(self.changes))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (the XCom shape)."""
        return {
            "agentid": self.agentid,
            "device_name": self.device_name,
            "policy_ids": list(self.policy_ids),
            "company_id": self.company_id,
            "action": self.action,
            "configuration_id": self.configuration_id,
            "desired": dict(self.desired),
            "changes": dict(self.changes),
            "protected_fields": list(self.protected_fields),
            "error": self.error,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceAction:
        """Rebuild an action from :meth:`to_dict` output.

        :param data: the dict.
        """
        if data.get("action") not in ACTIONS:
            raise ValueError(f"not a device action: {printable(repr(data.get('action')), 40)}")
        return cls(
            agentid=data.get("agentid"),
            device_name=data.get("device_name", ""),
            policy_ids=tuple(data.get("policy_ids", ())),
            company_id=int(data["company_id"]),
            action=data["action"],
            configuration_id=data.get("configuration_id"),
            desired=dict(data.get("desired", {})),
            changes=dict(data.get("changes", {})),
            protected_fields=tuple(data.get("protected_fields", ())),
            error=data.get("error"),
            warnings=tuple(data.get("warnings", ())),
        )


def _counts(actions: Iterable[DeviceAction]) -> dict[str, int]:
    counts = dict.fromkeys(ACTIONS, 0)
    for action in actions:
        counts[action.action] += 1
    return counts


@dataclass(frozen=True)
class Batch:
    """A slice of write actions: the unit of one mapped task (one company's, or several's when
    cut by :func:`cut_batches`; ``company_id`` is then ``None``)."""

    company_id: int | None
    company_name: str
    #: 0-based batch number within the company
    index: int
    #: 1-based position of the first action among the company's write actions
    first: int
    actions: tuple[DeviceAction, ...]

    @property
    def label(self) -> str:
        """A readable name for the Airflow map index, e.g. ``AcmeCorp: devices 1–500 (create 480, update 20)``."""
        company = printable(self.company_name, 60) or (
            f"company {self.company_id}" if self.company_id is not None else "several companies"
        )
        last = self.first + len(self.actions) - 1
        span = f"device {self.first}" if last == self.first else f"devices {self.first}–{last}"
        counts = ", ".join(f"{name} {n}" for name, n in _counts(self.actions).items() if n)
        return f"{company}: {span} ({counts})"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form, with the label (the XCom shape)."""
        return {
            "company_id": self.company_id,
            "company_name": self.company_name,
            "index": self.index,
            "first": self.first,
            "label": self.label,
            "actions": [action.to_dict() for action in self.actions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Batch:
        """Rebuild a batch from :meth:`to_dict` output (the label is derived again).

        :param data: the dict.
        """
        company_id = data.get("company_id")
        return cls(
            company_id=int(company_id) if company_id is not None else None,
            company_name=data.get("company_name", ""),
            index=int(data.get("index", 0)),
            first=int(data.get("first", 1)),
            actions=tuple(DeviceAction.from_dict(action) for action in data.get("actions", ())),
        )


def _companies_label(actions: Sequence[DeviceAction], names: Mapping[int, str]) -> str:
    ordered = list(dict.fromkeys(a.company_id for a in actions))
    first = printable(names.get(ordered[0], ""), 40) or f"company {ordered[0]}"
    return first if len(ordered) == 1 else f"{first} +{len(ordered) - 1} more"


def cut_batches(plans: Iterable[CompanyPlan], *, size: int = 500, slots: int = 1) -> list[Batch]:
    """Cut every plan's write actions into batches across companies, for mapped apply tasks.

    Batches hold at most ``size`` actions and come in a multiple of ``slots`` (the apply tasks
    that run at once) as long as there are enough actions, so every slot gets an equal share of
    the work and of the rate budget; a company with few writes no longer costs a task of its own.

    :param plans: the company plans.
    :param size: maximum actions per batch.
    :param slots: apply tasks running at the same time.
    """
    if size < 1 or slots < 1:
        raise ValueError(f"batch size and slots must be at least 1, got {size} and {slots}")
    plans = list(plans)
    writes = [action for plan in plans for action in plan.write_actions()]
    if not writes:
        return []
    names = {plan.company_id: plan.company_name for plan in plans}
    count = -(-len(writes) // size)
    count = min(len(writes), -(-count // slots) * slots)
    per_batch = -(-len(writes) // count)
    batches = []
    for number, start in enumerate(range(0, len(writes), per_batch)):
        chunk = tuple(writes[start : start + per_batch])
        companies = {a.company_id for a in chunk}
        only = next(iter(companies)) if len(companies) == 1 else None
        batches.append(Batch(only, _companies_label(chunk, names), number, start + 1, chunk))
    return batches


@dataclass(frozen=True)
class CompanyPlan:
    """Every device action of one company, plus what was noticed about its configurations."""

    company_id: int
    company_name: str
    actions: tuple[DeviceAction, ...]
    warnings: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """Action -> number of actions (every action present, zeros included)."""
        return _counts(self.actions)

    def write_actions(self) -> list[DeviceAction]:
        """Return the actions that write to ConnectWise, in plan order."""
        return [action for action in self.actions if action.is_write]

    def batches(self, size: int = 500) -> list[Batch]:
        """Cut the write actions into batches; a plan without writes has none.

        :param size: maximum number of actions per batch.
        """
        if size < 1:
            raise ValueError(f"batch size must be at least 1, got {size}")
        writes = self.write_actions()
        return [
            Batch(self.company_id, self.company_name, number, start + 1, tuple(writes[start : start + size]))
            for number, start in enumerate(range(0, len(writes), size))
        ]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form."""
        return {
            "company_id": self.company_id,
            "company_name": self.company_name,
            "counts": self.counts,
            "actions": [action.to_dict() for action in self.actions],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompanyPlan:
        """Rebuild a plan from :meth:`to_dict` output.

        :param data: the dict.
        """
        return cls(
            company_id=int(data["company_id"]),
            company_name=data.get("company_name", ""),
            actions=tuple(DeviceAction.from_dict(action) for action in data.get("actions", ())),
            warnings=tuple(data.get("warnings", ())),
        )


# --- reading configurations ---------------------------------------------------------------------


def _text(value: Any) -> str:
    """A configuration field as text: ``null``/missing are empty, the ends trimmed."""
    if value is None:
        return ""
    return (value if isinstance(value, str) else str(value)).strip()


def _ref_id(configuration: Mapping[str, Any], key: str) -> int | None:
    ref = configuration.get(key)
    value = ref.get("id") if isinstance(ref, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _identity(configuration: Mapping[str, Any]) -> str:
    return _text(configuration.get("deviceIdentifier")).casefold()


def is_owned(configuration: Mapping[str, Any], template: str) -> bool:
    """Return whether this integration created or adopted the configuration (the ownership marker).

    :param configuration: a raw ConnectWise configuration.
    :param template: the settings' management link template.
    """
    identifier = _text(configuration.get("deviceIdentifier"))
    if not identifier:
        return False
    link = _text(configuration.get("managementLink"))
    return link.casefold() == render_management_link(template, identifier).casefold()


def _serial_key(value: Any) -> str:
    return clean_text(_text(value)).casefold()


def _real_serial(key: str) -> bool:
    # A placeholder would "adopt" some unrelated machine's configuration.
    return bool(key) and key not in _PLACEHOLDER_SERIALS and len(set(re.sub(r"[\W_]", "", key))) > 1


class ConfigurationIndex:
    """A company's configurations, by agent id (``deviceIdentifier``), by id and by serial number.

    :param configurations: raw ConnectWise configuration dicts; records without an integer id
        are skipped and described in :attr:`problems`.
    """

    def __init__(self, configurations: Iterable[Mapping[str, Any]]) -> None:
        self._by_id: dict[int, Mapping[str, Any]] = {}
        self._by_agentid: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        self._unidentified_by_serial: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        self.problems: list[str] = []
        for configuration in configurations:
            config_id = configuration.get("id") if isinstance(configuration, Mapping) else None
            if not isinstance(config_id, int) or isinstance(config_id, bool):
                self.problems.append(
                    f"configuration without an integer id skipped: {printable(repr(config_id), 40)}"
                )
                continue
            self._by_id[config_id] = configuration
            identity = _identity(configuration)
            if identity:
                self._by_agentid[identity].append(configuration)
            else:
                serial = _serial_key(configuration.get("serialNumber"))
                if serial:
                    self._unidentified_by_serial[serial].append(configuration)

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return iter(sorted(self._by_id.values(), key=lambda configuration: configuration["id"]))

    def __len__(self) -> int:
        return len(self._by_id)

    def by_id(self, configuration_id: int | None) -> Mapping[str, Any] | None:
        """Return the configuration with this id, if read.

        :param configuration_id: a configuration id.
        """
        return self._by_id.get(configuration_id) if configuration_id is not None else None

    def for_agentid(self, agentid: str) -> list[Mapping[str, Any]]:
        """Return the configurations whose ``deviceIdentifier`` is this agent id (case-insensitive).

        :param agentid: the device's agent id.
        """
        return list(self._by_agentid.get(agentid.strip().casefold(), ()))

    def unidentified_with_serial(self, serial: str) -> list[Mapping[str, Any]]:
        """Return the configurations with an empty ``deviceIdentifier`` and this serial number.

        :param serial: a serial number (compared trimmed and case-insensitively).
        """
        return list(self._unidentified_by_serial.get(_serial_key(serial), ()))


def index_configurations(configurations: Iterable[Mapping[str, Any]]) -> ConfigurationIndex:
    """Index raw configurations for planning and re-planning.

    :param configurations: raw ConnectWise configuration dicts (e.g. a fresh read after a retry).
    """
    return ConfigurationIndex(configurations)


# --- planning -----------------------------------------------------------------------------------


def _prefer(
    matches: Sequence[Mapping[str, Any]], link: str, active_status_id: int
) -> list[Mapping[str, Any]]:
    """Order the configurations of one agent id: ours, then active, then lowest id."""

    def rank(configuration: Mapping[str, Any]) -> tuple[bool, bool, int]:
        ours = _text(configuration.get("managementLink")).casefold() == link.casefold()
        return (not ours, _ref_id(configuration, "status") != active_status_id, configuration["id"])

    return sorted(matches, key=rank)


def _changes(
    desired: Mapping[str, Any], configuration: Mapping[str, Any], protected: Iterable[str]
) -> dict[str, Any]:
    protected = set(protected)
    changes: dict[str, Any] = {}
    for key, value in desired.items():
        if key in _CREATE_ONLY or key in protected:
            continue
        if isinstance(value, Mapping):
            if _ref_id(configuration, key) != value.get("id"):
                changes[key] = dict(value)
        elif _text(configuration.get(key)) != value:
            changes[key] = value
    return changes


def _update_or_none(
    base: DeviceAction, configuration: Mapping[str, Any], warnings: list[str]
) -> DeviceAction:
    changes = _changes(base.desired, configuration, base.protected_fields)
    return replace(
        base,
        action="update" if changes else "none",
        configuration_id=configuration["id"],
        changes=changes,
        warnings=tuple(warnings),
    )


def _takeover_warning(configuration: Mapping[str, Any], link: str) -> str | None:
    current = _text(configuration.get("managementLink"))
    if current and current.casefold() != link.casefold():
        return (
            f"configuration {configuration['id']} had management link {printable(current, 120)}; "
            "it is replaced by this integration's link"
        )
    return None


def _fail(company_id: int, exc: DeviceMappingError, policy_ids: tuple[str, ...] = ()) -> DeviceAction:
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
    return _serial_key(first.fields.get("serialNumber")) == _serial_key(second.fields.get("serialNumber"))


def _read_devices(
    company_id: int, devices: Iterable[Mapping[str, Any]], settings: ResolvedSettings
) -> tuple[list[MappedDevice | DeviceAction], set[str]]:
    """Map every device; return the entries in input order (devices or fail actions) and the agent ids present."""
    entries: list[MappedDevice | DeviceAction] = []
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
            entries.append(_fail(company_id, exc, _raw_policy_ids(device)))
            continue
        key = mapped.agentid.casefold()
        present.add(key)
        if key not in position:
            position[key] = len(entries)
            entries.append(mapped)
            continue
        first = entries[position[key]]
        assert isinstance(first, MappedDevice)
        if _same_device(first, mapped):
            merged = first.policy_ids + tuple(p for p in mapped.policy_ids if p not in first.policy_ids)
            note = () if merged != first.policy_ids else ("listed twice for the same policy; merged",)
            entries[position[key]] = replace(first, policy_ids=merged, warnings=first.warnings + note)
        else:
            error = DeviceMappingError(
                printable(mapped.name, 60),
                mapped.agentid,
                "deviceIdentifier",
                f"agent id also on device {printable(repr(first.name), 60)} (another serial number); "
                "an agent id identifies one device",
            )
            entries.append(replace(_fail(company_id, error), policy_ids=mapped.policy_ids))
    return entries, present


def _adoptable(
    mapped: MappedDevice,
    index: ConfigurationIndex,
    claimed: set[int],
    shared_serials: set[str],
    active_status_id: int,
    warnings: list[str],
) -> Mapping[str, Any] | None:
    serial = mapped.fields.get("serialNumber", "")
    key = _serial_key(serial)
    candidates = [c for c in index.unidentified_with_serial(serial) if c["id"] not in claimed] if key else []
    if not candidates:
        return None
    shown = printable(repr(serial), 60)
    if not _real_serial(key):
        warnings.append(f"serial number {shown} looks like a placeholder; no configuration adopted by it")
        return None
    if key in shared_serials:
        warnings.append(f"serial number {shown} is on several devices; no configuration adopted by it")
        return None
    if len(candidates) > 1:
        active = [c for c in candidates if _ref_id(c, "status") == active_status_id]
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


def _device_action(
    mapped: MappedDevice,
    company_id: int,
    index: ConfigurationIndex,
    settings: ResolvedSettings,
    claimed: set[int],
    shared_serials: set[str],
    sites: Mapping[str, int],
) -> DeviceAction:
    warnings = list(mapped.warnings)
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
    base = DeviceAction(
        agentid=mapped.agentid,
        device_name=mapped.name,
        policy_ids=mapped.policy_ids,
        company_id=company_id,
        action="create",
        desired=desired,
        # A stand-in name is for a new configuration only: an existing one keeps its name.
        protected_fields=(*settings.protected_fields, *(("name",) if mapped.name_is_fallback else ())),
    )
    link = mapped.fields["managementLink"]
    matches = _prefer(index.for_agentid(mapped.agentid), link, settings.active_status_id)
    chosen: Mapping[str, Any] | None
    if matches:
        chosen = matches[0]
        if len(matches) > 1:
            others = ", ".join(str(c["id"]) for c in matches[1:])
            warnings.append(f"configurations {others} also carry this agent id; left untouched")
    elif settings.adopt_by_serial:
        chosen = _adoptable(mapped, index, claimed, shared_serials, settings.active_status_id, warnings)
    else:
        chosen = None
    if chosen is None:
        return replace(base, warnings=tuple(warnings))
    claimed.add(chosen["id"])
    takeover = _takeover_warning(chosen, link)
    if takeover:
        warnings.append(takeover)
    return _update_or_none(base, chosen, warnings)


def _deactivation(configuration: Mapping[str, Any], company_id: int, inactive_status_id: int) -> DeviceAction:
    status = {"id": inactive_status_id}
    return DeviceAction(
        agentid=_text(configuration.get("deviceIdentifier")),
        device_name=_text(configuration.get("name")),
        policy_ids=(),
        company_id=company_id,
        action="deactivate",
        configuration_id=configuration["id"],
        desired={"status": status},
        changes={"status": dict(status)},
    )


def plan_company(
    company_id: int,
    devices: Iterable[Mapping[str, Any]],
    configurations: Iterable[Mapping[str, Any]],
    settings: ResolvedSettings,
    *,
    company_name: str = "",
    deactivate: bool = True,
    sites: Mapping[str, int] | None = None,
) -> CompanyPlan:
    """Plan one company: every device of its linked policies against its configurations.

    :param company_id: the ConnectWise company id.
    :param devices: the device records of every policy linked to this company (untrusted).
    :param configurations: the company's raw ConnectWise configurations (``fields=`` as in
        ``docs/design.md``); records of another company are ignored with a warning.
    :param settings: the resolved settings.
    :param company_name: for logs and batch labels.
    :param deactivate: whether ``devices`` is the company's complete device set (see :class:`Scope`);
        without it, configurations of devices not in ``devices`` are left as they are.
    :param sites: policy id -> ConnectWise site id, for the devices of policies linked to a site.
    """
    plan_warnings: list[str] = []
    own: list[Mapping[str, Any]] = []
    for configuration in configurations:
        other = _ref_id(configuration, "company") if isinstance(configuration, Mapping) else None
        if other is not None and other != company_id:
            plan_warnings.append(
                f"configuration {printable(configuration.get('id'), 20)} belongs to company {other}; ignored"
            )
            continue
        own.append(configuration)
    index = index_configurations(own)
    plan_warnings.extend(index.problems)

    entries, present = _read_devices(company_id, devices, settings)
    serial_counts: dict[str, int] = defaultdict(int)
    for entry in entries:
        if isinstance(entry, MappedDevice):
            serial_counts[_serial_key(entry.fields.get("serialNumber"))] += 1
    shared_serials = {serial for serial, count in serial_counts.items() if count > 1}

    claimed: set[int] = set()
    actions = [
        entry
        if isinstance(entry, DeviceAction)
        else _device_action(entry, company_id, index, settings, claimed, shared_serials, sites or {})
        for entry in entries
    ]
    left = [
        configuration
        for configuration in index
        if configuration["id"] not in claimed
        and _identity(configuration) not in present
        and is_owned(configuration, settings.management_link_template)
        and _ref_id(configuration, "status") != settings.inactive_status_id
    ]
    if deactivate:
        actions.extend(_deactivation(c, company_id, settings.inactive_status_id) for c in left)
    elif left:
        plan_warnings.append(
            f"{len(left)} configurations of devices not in this run left as they are: "
            "the run does not hold the company's complete device set"
        )
    return CompanyPlan(company_id, company_name, tuple(actions), tuple(plan_warnings))


def plan_orphans(
    configurations: Iterable[Mapping[str, Any]],
    settings: ResolvedSettings,
    *,
    linked_company_ids: Iterable[int] = (),
) -> list[CompanyPlan]:
    """Plan the deactivation of our active configurations in companies no policy links to any more.

    :param configurations: raw configurations of companies without a linked policy (e.g. a sweep
        of ``status/id = active``); configurations of ``linked_company_ids`` are skipped.
    :param settings: the resolved settings.
    :param linked_company_ids: companies that still have a linked policy (planned by
        :func:`plan_company` instead).
    """
    linked = set(linked_company_ids)
    by_company: dict[int, list[DeviceAction]] = defaultdict(list)
    names: dict[int, str] = {}
    for configuration in index_configurations(configurations):
        company_id = _ref_id(configuration, "company")
        if company_id is None or company_id in linked:
            continue
        if not is_owned(configuration, settings.management_link_template):
            continue
        if _ref_id(configuration, "status") != settings.active_status_id:
            continue
        ref = configuration.get("company") or {}
        names.setdefault(company_id, _text(ref.get("name") or ref.get("identifier")))
        by_company[company_id].append(_deactivation(configuration, company_id, settings.inactive_status_id))
    return [
        CompanyPlan(company_id, names[company_id], tuple(by_company[company_id]))
        for company_id in sorted(by_company)
    ]


# --- re-planning (Retry Pending, or a retried task) ---------------------------------------------


def replan_action(
    action: DeviceAction, configurations: ConfigurationIndex | Iterable[Mapping[str, Any]]
) -> DeviceAction:
    """Re-plan one action against a fresh read, so that applying it again is safe.

    A create whose configuration now exists becomes an update or ``none`` (never a second
    create); an update already applied becomes ``none``; a deactivation already applied keeps
    empty changes. An update whose configuration disappeared becomes a create.

    :param action: the action planned earlier.
    :param configurations: a fresh read: the company's configurations (or at least those carrying
        this agent id and the action's configuration), raw or indexed.
    """
    index = (
        configurations
        if isinstance(configurations, ConfigurationIndex)
        else index_configurations(configurations)
    )
    if action.action == "fail" or not action.agentid:
        return action
    if action.action == "deactivate":
        return _replan_deactivation(action, index)
    warnings = list(action.warnings)
    link = str(action.desired.get("managementLink", ""))
    active_status = action.desired.get("status", {}).get("id")
    configuration = index.by_id(action.configuration_id)
    identity = _identity(configuration) if configuration is not None else ""
    # An adoption not yet written still has an empty identifier; one written has ours.
    if configuration is None or identity not in ("", action.agentid.casefold()):
        matches = _prefer(index.for_agentid(action.agentid), link, active_status)
        configuration = matches[0] if matches else None
    if configuration is None:
        if action.configuration_id is not None:
            warnings.append(f"configuration {action.configuration_id} no longer exists; creating a new one")
        return replace(action, action="create", configuration_id=None, changes={}, warnings=tuple(warnings))
    if action.action == "create":
        warnings.append(
            f"configuration {configuration['id']} already exists (an earlier try); not created again"
        )
    return _update_or_none(action, configuration, warnings)


def _replan_deactivation(action: DeviceAction, index: ConfigurationIndex) -> DeviceAction:
    configuration = index.by_id(action.configuration_id)
    if configuration is None and action.agentid:
        configuration = next(
            (c for c in index.for_agentid(action.agentid) if c["id"] == action.configuration_id), None
        )
    if configuration is None:
        note = f"configuration {action.configuration_id} no longer exists; nothing to deactivate"
        return replace(action, changes={}, warnings=(*action.warnings, note))
    if _identity(configuration) != (action.agentid or "").casefold():
        note = (
            f"configuration {action.configuration_id} now carries another device identifier; left untouched"
        )
        return replace(action, changes={}, warnings=(*action.warnings, note))
    return replace(action, changes=_changes(action.desired, configuration, ()))


# --- the dry run --------------------------------------------------------------------------------


def _note(action: DeviceAction) -> str:
    return "; ".join(([action.error] if action.error else []) + list(action.warnings))


def render_plan(plan: CompanyPlan) -> str:
    """Render a plan as a text table (the dry run), headed by the company and the counts.

    :param plan: the plan.
    """
    company = printable(plan.company_name, 60) or "(no name)"
    counts = ", ".join(f"{name} {n}" for name, n in plan.counts.items())
    rows = [
        [
            action.device_name,
            action.agentid or "",
            ", ".join(action.policy_ids),
            action.action,
            action.configuration_id or "",
            ", ".join(action.changes) if action.action != "create" else "(new)",
            _note(action),
        ]
        for action in plan.actions
    ]
    table = text_table(
        ["device", "agent id", "policies", "action", "configuration", "changes", "notes"],
        rows,
        max_widths={0: 40, 1: 40, 2: 30, 5: 60, 6: 100},
        wrap=(5, 6),
    )
    lines = [f"{company} (company {plan.company_id}): {counts}", table]
    lines.extend(f"warning: {printable(warning, 300)}" for warning in plan.warnings)
    return "\n".join(lines)
