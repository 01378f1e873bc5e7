"""The settings document (seed steps 6-16), its loading, and "the switch": resolution to ids.

Users write :class:`IntegrationSettings` (a dict, JSON or YAML; names or ids everywhere).
:func:`resolve_settings` checks it against the :class:`~.catalogue.Catalogue` that "Next" fetched
and returns :class:`ResolvedSettings` (ids only, plus display names for logs), or raises one
:class:`SettingsError` listing every problem, each naming the setting, the value given and the
choices.

Decisions:

- Names are compared trimmed, whitespace-collapsed and case-insensitively; an int is an id; a
  numeric text is tried as an id first, then as a name. A name two records share is ambiguous and
  must be replaced by the id.
- Companies are referenced by ConnectWise *identifier* (unique) or id, never by name (not unique).
- The active configuration status must be open: a closed one would hide the linked devices'
  configurations (an error). An inactive status that is not closed works but leaves retired
  devices in every configuration list, so it is only a warning (``ResolvedSettings.warnings``).
- Duplicate keys in a JSON or YAML file are errors (the last one would silently win otherwise).
- ``use_mdm_links`` defaults to true: linking happens on the policy in the MDM (seed "Setup"),
  and Addigy records that link itself; ``policy_links`` add to it and win on conflict. Companies
  known only from MDM links are not in the settings, so the caller checks them at run time.
- ``field_mapping`` may set a field to ``null`` to stop syncing it (``name`` excepted: ConnectWise
  requires it). ``protected_fields`` are still written when a configuration is created.
"""

from __future__ import annotations

import difflib
import json
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
)

from airflow_provider_connectwise.core import printable
from airflow_provider_connectwise.core.catalogue import (
    Board,
    BoardStatus,
    Catalogue,
    Company,
    ConfigurationStatus,
    ConfigurationType,
    NameOrId,
)
from airflow_provider_connectwise.core.links import DEFAULT_MODE, parse_mode
from airflow_provider_connectwise.core.mapping import (
    DEFAULT_FIELD_MAPPING,
    DEFAULT_MANAGEMENT_LINK_TEMPLATE,
    IDENTITY_FIELDS,
    MAPPED_FIELDS,
    management_link_template_problem,
)
from airflow_provider_connectwise.core.type_rules import ResolvedTypeRule, TypeRule

__all__ = [
    "BoardSettings",
    "ConfigurationStatusSettings",
    "ConfigurationTypeSettings",
    "DefaultContact",
    "FieldMapping",
    "IntegrationSettings",
    "PolicyLink",
    "ResolvedBoard",
    "ResolvedPolicyLink",
    "ResolvedSettings",
    "SettingsError",
    "SettingsProblem",
    "load_settings",
    "referenced_companies",
    "resolve_settings",
]

_MAX_CHOICES = 30


# --- problems -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsProblem:
    """One thing wrong with the settings: where, what, the value given and the valid choices."""

    #: the setting, e.g. ``monitoring.open_status`` or ``configuration_types.conditional[2].value``
    path: str
    #: a full sentence fragment that already names the value and lists the choices
    message: str
    value: Any = None
    choices: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (for the UI)."""
        value = (
            self.value if isinstance(self.value, (str, int, float, bool, type(None))) else repr(self.value)
        )
        return {"path": self.path, "message": self.message, "value": value, "choices": list(self.choices)}


class SettingsError(ValueError):
    """The settings cannot be used; carries every problem found, not just the first.

    :param problems: what is wrong, in document order.
    """

    def __init__(self, problems: Sequence[SettingsProblem]) -> None:
        if not problems:
            raise ValueError("SettingsError needs at least one problem")
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        head = "1 problem" if count == 1 else f"{count} problems"
        return f"The ConnectWise settings have {head}:\n" + "\n".join(f"  - {p}" for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (for the UI)."""
        return {"problems": [problem.to_dict() for problem in self.problems]}


# --- the document -------------------------------------------------------------------------------


class _Section(BaseModel):
    # frozen: a loaded document is a value; extra="forbid": a typo must not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class BoardSettings(_Section):
    """A service board, the ticket statuses used on it (seed steps 6-8 and 9-11), how its
    tickets are classified and how notes are written on them."""

    board: NameOrId = Field(description="Service board name or id.")
    open_status: NameOrId = Field(description="Status of new tickets: an open, active status of the board.")
    closed_status: NameOrId = Field(
        description="Status that closes a ticket: a closed, active status of the board."
    )
    type: NameOrId | None = Field(default=None, description="Ticket type of new tickets (of this board).")
    subtype: NameOrId | None = Field(
        default=None, description="Ticket subtype of new tickets (of this board)."
    )
    item: NameOrId | None = Field(default=None, description="Ticket item of new tickets (of this board).")
    priority: NameOrId | None = Field(default=None, description="Priority of new tickets.")
    priority_by_severity: dict[str, NameOrId] = Field(
        default_factory=dict, description="Alert severity (e.g. critical) -> priority; wins over priority."
    )
    source: NameOrId | None = Field(
        default=None, description="Ticket source (name or id; sent as given: the API lists no sources)."
    )
    notes: Literal["internal", "discussion"] = Field(
        default="internal",
        description="Notes the integration writes: internal, or discussion (the customer sees them).",
    )
    keep_touched_tickets_open: bool = Field(
        default=True,
        description="A ticket a technician worked (status moved, a note or time added) is not closed when "
        "its alert resolves: a note says so instead.",
    )

    @field_validator("priority_by_severity", mode="before")
    @classmethod
    def _severities(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k).strip().casefold(): v for k, v in value.items()}
        return value


class DefaultContact(_Section):
    """The contact set on new tickets of a company (by full name or e-mail address)."""

    company: NameOrId = Field(description="ConnectWise company identifier or id.")
    contact: Annotated[str, Field(min_length=1, max_length=250, description="Contact full name or e-mail.")]


class ConfigurationStatusSettings(_Section):
    """Configuration statuses of linked and of removed devices (seed steps 12-13)."""

    active: NameOrId = Field(
        description="Status of configurations whose device is in a linked policy (open)."
    )
    inactive: NameOrId = Field(description="Status of configurations whose device left (normally closed).")


class ConfigurationTypeSettings(_Section):
    """Configuration types of new configurations (seed steps 14-15)."""

    default: NameOrId = Field(description="Type of new configurations when no rule matches.")
    conditional: list[TypeRule] = Field(
        default_factory=list, description="Rules tried in order; the first match gives the type."
    )


def _policy_id(value: Any) -> Any:
    # YAML reads an unquoted numeric policy id as a number; ids are compared as text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class PolicyLink(_Section):
    """An explicit link of an MDM policy to a ConnectWise company (seed "Setup" steps 1-6)."""

    policy: Annotated[str, Field(min_length=1, description="MDM policy id.")]
    company: NameOrId = Field(description="ConnectWise company identifier or id.")
    site: Annotated[StrictInt, Field(gt=0)] | None = Field(
        default=None, description="A site of the company (its id) that the policy's configurations carry."
    )
    mode: str = Field(
        default=DEFAULT_MODE,
        description="all (default), inventory (configurations only), tickets (tickets only) or paused.",
    )

    @field_validator("policy", mode="before")
    @classmethod
    def _policy_text(cls, value: Any) -> Any:
        value = _policy_id(value)
        return value.strip() if isinstance(value, str) else value

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> str:
        return parse_mode(value)


def _fact_identifier(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("must be an MDM fact identifier, or null to stop syncing the field")
        return value.strip()
    if value is None:
        return None
    raise ValueError(f"must be an MDM fact identifier, got {type(value).__name__}")


FactIdentifier = Annotated[str | None, BeforeValidator(_fact_identifier)]


class FieldMapping(_Section):
    """ConnectWise configuration field -> MDM fact identifier (the seed's table); ``null`` = not synced."""

    name: str = Field(default=DEFAULT_FIELD_MAPPING["name"], description="Device Name.")
    serialNumber: FactIdentifier = Field(
        default=DEFAULT_FIELD_MAPPING["serialNumber"], description="Serial Number."
    )
    macAddress: FactIdentifier = Field(
        default=DEFAULT_FIELD_MAPPING["macAddress"], description="Ethernet MAC Address."
    )
    ipAddress: FactIdentifier = Field(default=DEFAULT_FIELD_MAPPING["ipAddress"], description="Local IP.")
    osType: FactIdentifier = Field(default=DEFAULT_FIELD_MAPPING["osType"], description="OS Platform.")
    osInfo: FactIdentifier = Field(default=DEFAULT_FIELD_MAPPING["osInfo"], description="System Version.")
    cpuSpeed: FactIdentifier = Field(
        default=DEFAULT_FIELD_MAPPING["cpuSpeed"], description="Processor Speed (GHz)."
    )
    ram: FactIdentifier = Field(default=DEFAULT_FIELD_MAPPING["ram"], description="Total Memory (GB).")
    lastLoginName: FactIdentifier = Field(
        default=DEFAULT_FIELD_MAPPING["lastLoginName"], description="Current User."
    )

    @field_validator("name", mode="before")
    @classmethod
    def _name_required(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("name cannot be switched off: ConnectWise requires a configuration name")
        return _fact_identifier(value)

    def as_dict(self) -> dict[str, str]:
        """Return field -> fact identifier for the synced fields only."""
        return {name: fact for name in MAPPED_FIELDS if (fact := getattr(self, name))}


def _protected_field(value: str) -> str:
    value = value.strip()
    if value in IDENTITY_FIELDS:
        raise ValueError(
            f"{value!r} can never be protected: deviceIdentifier and managementLink mark the "
            "configuration as this integration's"
        )
    if value not in MAPPED_FIELDS:
        raise ValueError(
            f"unknown field {value!r}{_did_you_mean(value, MAPPED_FIELDS)}; fields: {', '.join(MAPPED_FIELDS)}"
        )
    return value


class IntegrationSettings(_Section):
    """The ConnectWise integration settings document (seed steps 6-16)."""

    monitoring: BoardSettings = Field(description="Monitoring service board (seed steps 6-8).")
    self_service: BoardSettings = Field(description="Self Service service board (seed steps 9-11).")
    configuration_statuses: ConfigurationStatusSettings = Field(
        description="Configuration active and inactive statuses (seed steps 12-13)."
    )
    configuration_types: ConfigurationTypeSettings = Field(
        description="Default and conditional configuration types (seed steps 14-15)."
    )
    policy_links: list[PolicyLink] = Field(
        default_factory=list, description="Explicit MDM policy -> ConnectWise company links."
    )
    use_mdm_links: bool = Field(
        default=True, description="Also use the company each MDM policy records (explicit links win)."
    )
    field_mapping: FieldMapping = Field(
        default_factory=FieldMapping, description="Overrides of the fact identifier per ConnectWise field."
    )
    protected_fields: list[Annotated[str, AfterValidator(_protected_field)]] = Field(
        default_factory=list, description="Fields set on create but never overwritten on update."
    )
    adopt_by_serial: bool = Field(
        default=True,
        description="Adopt an existing configuration with no device identifier and the same serial number.",
    )
    default_contacts: list[DefaultContact] = Field(
        default_factory=list, description="A contact per company, set on its new tickets."
    )
    resolve_alerts_in_mdm: bool = Field(
        default=False,
        description="A monitoring ticket closed in ConnectWise resolves its alert in the MDM "
        "(the direction Addigy itself does not do).",
    )
    management_link_template: str = Field(
        default=DEFAULT_MANAGEMENT_LINK_TEMPLATE,
        description="Link written on every configuration; marks it as created or adopted by this integration.",
    )

    @field_validator("management_link_template")
    @classmethod
    def _link_template(cls, value: str) -> str:
        problem = management_link_template_problem(value)
        if problem:
            raise ValueError(problem)
        return value


# --- loading ------------------------------------------------------------------------------------


def _did_you_mean(key: str, allowed: Iterable[str]) -> str:
    allowed = list(allowed)
    folded = {name.casefold(): name for name in allowed}
    match = folded.get(key.casefold()) or next(
        iter(difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)), None
    )
    return f" (did you mean {match!r}?)" if match else ""


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(loc: Sequence[Any]) -> type[BaseModel] | None:
    """Return the document section a pydantic error location points into."""
    model: type[BaseModel] | None = IntegrationSettings
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part) if model else None
        if info is None:
            return None
        model = _model_in(info.annotation)
    return model


def _path(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<document>"


def _unknown_key(loc: Sequence[Any]) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    allowed = list(model.model_fields) if model else []
    if model is FieldMapping and key in IDENTITY_FIELDS:
        return (
            f"{key!r} is not mapped from a fact: deviceIdentifier is always the agent id and "
            "managementLink the rendered management_link_template"
        )
    return f"unknown setting {printable(repr(key), 60)}{_did_you_mean(key, allowed)}; settings here: {', '.join(allowed)}"


def _problems(error: ValidationError) -> list[SettingsProblem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = item["loc"]
        kind = item["type"]
        if kind == "extra_forbidden":
            problems.append(SettingsProblem(_path(loc), _unknown_key(loc), value=item.get("input")))
        elif kind == "missing":
            problems.append(SettingsProblem(_path(loc), "required setting is missing"))
        else:
            message = item["msg"].removeprefix("Value error, ")
            value = item.get("input")
            # Our own validators already show the value; pydantic's messages do not.
            if kind != "value_error" and not isinstance(value, (Mapping, list)):
                message += f" (got {printable(repr(value), 80)})"
            problems.append(SettingsProblem(_path(loc), message, value=value))
    return problems


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} appears twice")
        out[key] = value
    return out


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that repeats a key."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be a plain name, not {type(key).__name__}", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _document_problem(message: str) -> SettingsError:
    return SettingsError([SettingsProblem("<document>", message)])


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as exc:
        raise _document_problem(f"{where} is not valid JSON: {exc}") from None
    except ValueError as exc:
        raise _document_problem(f"{where}: {exc}") from None


def _parse_yaml(text: str, where: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise _document_problem(f"{where} is not valid YAML: {exc}") from None


def _is_text(source: str) -> bool:
    """Whether a string is the document itself (JSON or YAML text) rather than a file's path."""
    stripped = source.strip()
    if stripped.startswith("{") or "\n" in stripped:
        return True
    return ":" in stripped and not stripped.lower().endswith((".json", ".yaml", ".yml"))


def _read(source: str | os.PathLike[str]) -> Any:
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _document_problem(f"cannot read settings file {str(path)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise _document_problem(f"settings file {str(path)!r} is not UTF-8 text") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _parse_json(text, f"settings file {str(path)!r}")
    if suffix in (".yaml", ".yml"):
        return _parse_yaml(text, f"settings file {str(path)!r}")
    raise _document_problem(f"settings file {str(path)!r}: expected a .json, .yaml or .yml file")


def load_settings(
    source: IntegrationSettings | Mapping[str, Any] | str | os.PathLike[str],
) -> IntegrationSettings:
    """Load and check the settings document (its shape only; :func:`resolve_settings` does the rest).

    :param source: the document as a dict, as JSON or YAML text (a string holding a line break or
        a ``key: value``, unless it names a ``.json``/``.yaml``/``.yml`` file), or the path of such a
        file; an :class:`IntegrationSettings` is returned as is.
    :raises SettingsError: every problem found (unknown keys, wrong types, bad rules...).
    """
    if isinstance(source, IntegrationSettings):
        return source
    if isinstance(source, str) and source.lstrip().startswith("{"):
        data: Any = _parse_json(source, "the settings text")
    elif isinstance(source, str) and _is_text(source):
        data = _parse_yaml(source, "the settings text")
    elif isinstance(source, (str, os.PathLike)):
        data = _read(source)
    else:
        data = source
    if not isinstance(data, Mapping):
        raise _document_problem(f"the settings must be a mapping of settings, got {type(data).__name__}")
    try:
        return IntegrationSettings.model_validate(dict(data))
    except ValidationError as exc:
        raise SettingsError(_problems(exc)) from None


# --- the resolved form --------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedBoard:
    """A service board, its open and closed ticket statuses and its tickets' classification, by
    id (names for logs); ``priority_by_severity`` maps a case-folded severity to a priority id."""

    board_id: int
    open_status_id: int
    closed_status_id: int
    board_name: str = ""
    open_status_name: str = ""
    closed_status_name: str = ""
    type_id: int | None = None
    subtype_id: int | None = None
    item_id: int | None = None
    priority_id: int | None = None
    priority_by_severity: dict[str, int] = field(default_factory=dict)
    source: int | str | None = None
    notes: str = "internal"
    keep_touched_tickets_open: bool = True

    def priority_for(self, severity: Any) -> int | None:
        """The priority id for an alert severity (the board's priority when none is mapped)."""
        key = str(severity).strip().casefold() if severity not in (None, "") else None
        return self.priority_by_severity.get(key, self.priority_id) if key else self.priority_id


@dataclass(frozen=True)
class ResolvedPolicyLink:
    """An explicit policy -> company link, by company id (identifier and name for logs)."""

    policy_id: str
    company_id: int
    company_identifier: str = ""
    company_name: str = ""
    #: a site of the company (checked to be the company's when the links are listed)
    site_id: int | None = None
    mode: str = DEFAULT_MODE


def _board_dict(board: ResolvedBoard) -> dict[str, Any]:
    return {**vars(board), "priority_by_severity": dict(board.priority_by_severity)}


def _mdm_company_id(value: Any) -> int | None:
    # Addigy's Policy.connectwise_account_id: an integer, 0 or absent when the policy is not linked.
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _is_number(value.strip()):
        value = int(value.strip())
    return value if isinstance(value, int) and value > 0 else None


@dataclass(frozen=True)
class ResolvedSettings:
    """The settings with every name resolved to its id: what the sync reads (and XCom carries)."""

    monitoring: ResolvedBoard
    self_service: ResolvedBoard
    active_status_id: int
    inactive_status_id: int
    default_type_id: int
    type_rules: tuple[ResolvedTypeRule, ...] = ()
    policy_links: tuple[ResolvedPolicyLink, ...] = ()
    use_mdm_links: bool = True
    #: ConnectWise field -> fact identifier, defaults applied, switched-off fields left out
    field_mapping: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELD_MAPPING))
    protected_fields: tuple[str, ...] = ()
    adopt_by_serial: bool = True
    management_link_template: str = DEFAULT_MANAGEMENT_LINK_TEMPLATE
    resolve_alerts_in_mdm: bool = False
    #: company id -> contact id set on the company's new tickets
    default_contacts: dict[int, int] = field(default_factory=dict)
    active_status_name: str = ""
    inactive_status_name: str = ""
    default_type_name: str = ""
    #: things that work but deserve a look (logged by the caller)
    warnings: tuple[str, ...] = ()

    def explicit_link(self, policy_id: str) -> ResolvedPolicyLink | None:
        """The settings' own ``policy_links`` entry for a policy (``None`` when there is none).

        :param policy_id: the MDM policy id.
        """
        return next((link for link in self.policy_links if link.policy_id == str(policy_id)), None)

    def company_for_policy(self, policy_id: str, mdm_company_id: Any = None) -> int | None:
        """Return the ConnectWise company id a policy is linked to, ``None`` when it is not linked.

        An explicit ``policy_links`` entry wins; otherwise, with ``use_mdm_links``, the company the
        MDM records on the policy (``Policy.connectwise_account_id``) when it is a positive id.

        :param policy_id: the MDM policy id.
        :param mdm_company_id: the policy's ``connectwise_account_id`` as the MDM returned it.
        """
        for link in self.policy_links:
            if link.policy_id == str(policy_id):
                return link.company_id
        return _mdm_company_id(mdm_company_id) if self.use_mdm_links else None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (the XCom shape)."""
        return {
            "monitoring": _board_dict(self.monitoring),
            "self_service": _board_dict(self.self_service),
            "active_status_id": self.active_status_id,
            "active_status_name": self.active_status_name,
            "inactive_status_id": self.inactive_status_id,
            "inactive_status_name": self.inactive_status_name,
            "default_type_id": self.default_type_id,
            "default_type_name": self.default_type_name,
            "type_rules": [rule.to_dict() for rule in self.type_rules],
            "policy_links": [vars(link).copy() for link in self.policy_links],
            "use_mdm_links": self.use_mdm_links,
            "field_mapping": dict(self.field_mapping),
            "protected_fields": list(self.protected_fields),
            "adopt_by_serial": self.adopt_by_serial,
            "management_link_template": self.management_link_template,
            "resolve_alerts_in_mdm": self.resolve_alerts_in_mdm,
            "default_contacts": {str(k): v for k, v in self.default_contacts.items()},
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResolvedSettings:
        """Rebuild resolved settings from :meth:`to_dict` output.

        :param data: the dict (e.g. pulled from XCom).
        """
        return cls(
            monitoring=ResolvedBoard(**data["monitoring"]),
            self_service=ResolvedBoard(**data["self_service"]),
            active_status_id=data["active_status_id"],
            active_status_name=data.get("active_status_name", ""),
            inactive_status_id=data["inactive_status_id"],
            inactive_status_name=data.get("inactive_status_name", ""),
            default_type_id=data["default_type_id"],
            default_type_name=data.get("default_type_name", ""),
            type_rules=tuple(ResolvedTypeRule.from_dict(rule) for rule in data.get("type_rules", ())),
            policy_links=tuple(ResolvedPolicyLink(**link) for link in data.get("policy_links", ())),
            use_mdm_links=data.get("use_mdm_links", True),
            field_mapping=dict(data.get("field_mapping", DEFAULT_FIELD_MAPPING)),
            protected_fields=tuple(data.get("protected_fields", ())),
            adopt_by_serial=data.get("adopt_by_serial", True),
            management_link_template=data.get("management_link_template", DEFAULT_MANAGEMENT_LINK_TEMPLATE),
            resolve_alerts_in_mdm=bool(data.get("resolve_alerts_in_mdm", False)),
            default_contacts={int(k): int(v) for k, v in (data.get("default_contacts") or {}).items()},
            warnings=tuple(data.get("warnings", ())),
        )


# --- resolution ("the switch") ------------------------------------------------------------------


def _is_number(text: str) -> bool:
    # str.isdigit() alone accepts "²" and other digits int() refuses.
    return text.isascii() and text.isdigit()


def name_key(text: str) -> str:
    """How settings names are compared: NFC, whitespace collapsed, case-folded."""
    return _key(text)


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split())).casefold()


def _shown(value: int | str) -> str:
    return f"id {value}" if isinstance(value, int) else printable(repr(value), 80)


def _choice_list(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({printable(name, 60) for name in names if name}, key=str.casefold))


def _choices_text(label: str, choices: tuple[str, ...]) -> str:
    if not choices:
        return f"{label}: none"
    shown = ", ".join(choices[:_MAX_CHOICES])
    more = f" and {len(choices) - _MAX_CHOICES} more" if len(choices) > _MAX_CHOICES else ""
    return f"{label}: {shown}{more}"


class _Resolver:
    """Collects every problem while resolving, so "the switch" reports them all at once."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.problems: list[SettingsProblem] = []
        self.warnings: list[str] = []

    def problem(self, path: str, message: str, value: Any = None, choices: tuple[str, ...] = ()) -> None:
        self.problems.append(SettingsProblem(path, message, value=value, choices=choices))

    def find(self, value: int | str, records: Sequence[Any], attr: str) -> tuple[Any, list[Any]]:
        """Return (the record, []) or (None, the records sharing the name when it is ambiguous)."""
        if isinstance(value, int) or _is_number(value):
            by_id = [record for record in records if record.id == int(value)]
            if by_id or isinstance(value, int):
                return (by_id[0] if by_id else None), []
        same = [record for record in records if _key(getattr(record, attr)) == _key(value)]
        if len(same) == 1:
            return same[0], []
        return None, same

    def pick(
        self,
        path: str,
        value: int | str,
        records: Sequence[Any],
        *,
        kind: str,
        label: str,
        choices: Iterable[Any],
        attr: str = "name",
    ) -> Any:
        """Resolve a reference, or record a problem naming the value and the choices."""
        found, same = self.find(value, records, attr)
        if found is not None:
            return found
        names = _choice_list(getattr(record, attr) for record in choices)
        if same:
            ids = ", ".join(str(record.id) for record in same)
            message = f"{kind} {_shown(value)} is ambiguous: ids {ids} share it; use the id"
        else:
            message = f"{kind} {_shown(value)} not found; {_choices_text(label, names)}"
        self.problem(path, message, value, names)
        return None

    # boards -------------------------------------------------------------------------------------

    def board(self, path: str, section: BoardSettings) -> ResolvedBoard | None:
        boards = self.catalogue.boards
        active = [board for board in boards if not board.inactive]
        board: Board | None = self.pick(
            f"{path}.board", section.board, boards, kind="board", label="boards", choices=active
        )
        if board is None:
            return None
        if board.inactive:
            # Its statuses are not checked: another board has to be chosen anyway.
            names = _choice_list(b.name for b in active)
            self.problem(
                f"{path}.board",
                f"board {printable(repr(board.name), 80)} is inactive; {_choices_text('active boards', names)}",
                section.board,
                names,
            )
            return None
        open_status = self.status(f"{path}.open_status", section.open_status, board, closed=False)
        closed_status = self.status(f"{path}.closed_status", section.closed_status, board, closed=True)
        classified = self.classification(path, section, board)
        if open_status is None or closed_status is None or classified is None:
            return None
        return ResolvedBoard(
            board_id=board.id,
            open_status_id=open_status.id,
            closed_status_id=closed_status.id,
            board_name=board.name,
            open_status_name=open_status.name,
            closed_status_name=closed_status.name,
            source=section.source,
            notes=section.notes,
            keep_touched_tickets_open=section.keep_touched_tickets_open,
            **classified,
        )

    def named(
        self, path: str, value: int | str | None, records: Sequence[Any], kind: str, plural: str
    ) -> Any:
        """Resolve an optional name among active records (an inactive one is a problem too)."""
        if value is None:
            return None
        active = [r for r in records if not r.inactive]
        label = f"active {plural}"
        found = self.pick(path, value, records, kind=kind, label=label, choices=active)
        if found is not None and found.inactive:
            names = _choice_list(r.name for r in active)
            self.problem(
                path,
                f"{kind} {printable(repr(found.name), 80)} is inactive; {_choices_text(label, names)}",
                value,
                names,
            )
            return None
        return found

    def classification(self, path: str, section: BoardSettings, board: Board) -> dict[str, Any] | None:
        """Ticket type, subtype, item and priorities of a board section, by id (None on a problem)."""
        before = len(self.problems)
        shown = printable(repr(board.name), 40)
        kinds = (("type", board.types), ("subtype", board.subtypes), ("item", board.items))
        out: dict[str, Any] = {}
        for name, records in kinds:
            value = getattr(section, name)
            found = self.named(f"{path}.{name}", value, records, f"{shown} ticket {name}", f"{name}s")
            out[f"{name}_id"] = found.id if found else None
        priorities = self.catalogue.priorities
        prio = self.named(f"{path}.priority", section.priority, priorities, "priority", "priorities")
        out["priority_id"] = prio.id if prio else None
        out["priority_by_severity"] = {}
        for severity, value in section.priority_by_severity.items():
            where = f"{path}.priority_by_severity.{severity}"
            found = self.named(where, value, priorities, "priority", "priorities")
            if found is not None:
                out["priority_by_severity"][severity] = found.id
        return out if len(self.problems) == before else None

    def default_contacts(self, entries: Sequence[DefaultContact]) -> dict[int, int]:
        """Company id -> contact id; a contact is named by e-mail (any of its addresses) or full name."""
        out: dict[int, int] = {}
        for index, entry in enumerate(entries):
            path = f"default_contacts[{index}]"
            company = self.company(f"{path}.company", entry.company)
            if company is None:
                continue
            people = [c for c in self.catalogue.contacts if c.company_id == company.id]
            wanted = _key(entry.contact)
            by_email = [c for c in people if any(_key(e) == wanted for e in c.emails)]
            same = by_email or [c for c in people if _key(c.name) == wanted]
            usable = [c for c in people if not c.inactive]
            names = _choice_list(c.name or (c.emails[0] if c.emails else f"id {c.id}") for c in usable)
            company_shown = printable(repr(company.identifier), 60)
            if not same:
                listing = _choices_text(f"contacts of {company_shown}", names)
                self.problem(
                    f"{path}.contact",
                    f"contact {_shown(entry.contact)} not found; {listing}",
                    entry.contact,
                    names,
                )
            elif len(same) > 1:
                ids = ", ".join(str(c.id) for c in same)
                self.problem(
                    f"{path}.contact",
                    f"contact {_shown(entry.contact)} is ambiguous in {company_shown}: ids {ids} share it; use an e-mail address",
                    entry.contact,
                )
            elif same[0].inactive:
                listing = _choices_text(f"active contacts of {company_shown}", names)
                self.problem(
                    f"{path}.contact",
                    f"contact {_shown(entry.contact)} is inactive; {listing}",
                    entry.contact,
                    names,
                )
            else:
                out[company.id] = same[0].id
        return out

    def status(self, path: str, value: int | str, board: Board, *, closed: bool) -> BoardStatus | None:
        usable = [s for s in board.statuses if (s.usable_as_closed if closed else s.usable_as_open)]
        kind = "closed" if closed else "open"
        board_name = printable(repr(board.name), 80)
        names = _choice_list(s.name for s in usable)
        listing = _choices_text(f"{kind} statuses of {board_name}", names)
        status, same = self.find(value, board.statuses, "name")
        if status is None and not same:
            for other in self.catalogue.boards:
                elsewhere, _ = (
                    self.find(value, other.statuses, "name") if other.id != board.id else (None, [])
                )
                if elsewhere is not None:
                    self.problem(
                        path,
                        f"status {_shown(value)} belongs to board {printable(repr(other.name), 80)}, "
                        f"not {board_name}; {listing}",
                        value,
                        names,
                    )
                    return None
            self.problem(
                path, f"status {_shown(value)} not found on board {board_name}; {listing}", value, names
            )
            return None
        if status is None:
            ids = ", ".join(str(s.id) for s in same)
            self.problem(
                path, f"status {_shown(value)} is ambiguous on board {board_name}: ids {ids}; use the id"
            )
            return None
        shown = printable(repr(status.name), 80)
        if closed and not status.closed:
            self.problem(path, f"status {shown} is not a closed status; {listing}", value, names)
        elif not closed and status.closed:
            self.problem(path, f"status {shown} is a closed status; {listing}", value, names)
        elif status.inactive:
            self.problem(path, f"status {shown} is inactive; {listing}", value, names)
        else:
            return status
        return None

    # configuration statuses and types -----------------------------------------------------------

    def configuration_statuses(
        self, section: ConfigurationStatusSettings
    ) -> tuple[ConfigurationStatus | None, ConfigurationStatus | None]:
        statuses = self.catalogue.configuration_statuses
        path = "configuration_statuses"
        active: ConfigurationStatus | None = self.pick(
            f"{path}.active",
            section.active,
            statuses,
            kind="configuration status",
            label="open configuration statuses",
            choices=[s for s in statuses if not s.closed],
            attr="description",
        )
        inactive: ConfigurationStatus | None = self.pick(
            f"{path}.inactive",
            section.inactive,
            statuses,
            kind="configuration status",
            label="configuration statuses",
            choices=statuses,
            attr="description",
        )
        if active is not None and active.closed:
            names = _choice_list(s.description for s in statuses if not s.closed)
            self.problem(
                f"{path}.active",
                f"configuration status {printable(repr(active.description), 80)} is a closed status; linked "
                f"devices need an open one; {_choices_text('open configuration statuses', names)}",
                section.active,
                names,
            )
            active = None
        if active is not None and inactive is not None:
            if active.id == inactive.id:
                self.problem(
                    f"{path}.inactive",
                    f"configuration status {printable(repr(inactive.description), 80)} is also the active "
                    "status; removed devices need a different one",
                    section.inactive,
                )
                inactive = None
            elif not inactive.closed:
                self.warnings.append(
                    f"{path}.inactive: configuration status {printable(repr(inactive.description), 80)} is not a "
                    "closed status; configurations of removed devices will stay in open lists"
                )
        return active, inactive

    def configuration_type(self, path: str, value: int | str) -> ConfigurationType | None:
        types = self.catalogue.configuration_types
        usable = [kind for kind in types if kind.usable]
        names = _choice_list(kind.name for kind in usable)
        listing = _choices_text("usable types", names)
        found: ConfigurationType | None = self.pick(
            path, value, types, kind="configuration type", label="usable types", choices=usable
        )
        if found is None:
            return None
        shown = printable(repr(found.name), 80)
        if found.inactive:
            self.problem(path, f"configuration type {shown} is inactive; {listing}", value, names)
            return None
        if found.required_questions:
            questions = ", ".join(printable(repr(q), 80) for q in found.required_questions)
            self.problem(
                path,
                f"configuration type {shown} has required questions ({questions}); devices cannot be linked "
                f"with a type that has required questions; {listing}",
                value,
                names,
            )
            return None
        return found

    # companies ----------------------------------------------------------------------------------

    def company(self, path: str, value: int | str) -> Company | None:
        companies = self.catalogue.companies
        found, same = self.find(value, companies, "identifier")
        if found is None:
            if same:
                ids = ", ".join(str(c.id) for c in same)
                self.problem(path, f"company {_shown(value)} is ambiguous: ids {ids}; use the id", value)
            else:
                self.problem(
                    path,
                    f"company {_shown(value)} not found (companies are named by identifier or id)",
                    value,
                )
            return None
        if found.deleted:
            self.problem(
                path,
                f"company {printable(repr(found.identifier), 80)} ({printable(found.name, 80)}) is deleted",
                value,
            )
            return None
        return found

    def policy_links(self, links: Sequence[PolicyLink]) -> tuple[ResolvedPolicyLink, ...]:
        resolved: dict[str, tuple[int, ResolvedPolicyLink]] = {}
        for index, link in enumerate(links):
            company = self.company(f"policy_links[{index}].company", link.company)
            if company is None:
                continue
            earlier = resolved.get(link.policy)
            if earlier is not None and earlier[1].company_id != company.id:
                first_index, first = earlier
                self.problem(
                    f"policy_links[{index}].policy",
                    f"policy {printable(repr(link.policy), 80)} is already linked to company "
                    f"{printable(repr(first.company_identifier), 80)} by policy_links[{first_index}]; a policy "
                    "links to one company",
                    link.policy,
                )
                continue
            if earlier is None:
                resolved[link.policy] = (
                    index,
                    ResolvedPolicyLink(
                        link.policy, company.id, company.identifier, company.name, link.site, link.mode
                    ),
                )
        return tuple(entry for _, entry in resolved.values())


def resolve_settings(
    settings: IntegrationSettings | Mapping[str, Any], catalogue: Catalogue
) -> ResolvedSettings:
    """Resolve every name to its id and check the settings against ConnectWise ("the switch").

    :param settings: the document (loaded with :func:`load_settings` when given as a dict).
    :param catalogue: what "Next" fetched, including the companies the settings reference
        (see :func:`referenced_companies`).
    :raises SettingsError: every problem found, each naming the setting, the value and the choices.
    """
    settings = load_settings(settings)
    resolver = _Resolver(catalogue)
    monitoring = resolver.board("monitoring", settings.monitoring)
    self_service = resolver.board("self_service", settings.self_service)
    active, inactive = resolver.configuration_statuses(settings.configuration_statuses)
    default_type = resolver.configuration_type(
        "configuration_types.default", settings.configuration_types.default
    )
    rules = []
    for index, rule in enumerate(settings.configuration_types.conditional):
        kind = resolver.configuration_type(f"configuration_types.conditional[{index}].type", rule.type)
        problem = rule.pattern_problem()
        if problem:
            resolver.problem(f"configuration_types.conditional[{index}].value", problem, rule.value)
        elif kind is not None:
            rules.append(
                ResolvedTypeRule(
                    type_id=kind.id,
                    type_name=kind.name,
                    fact=rule.fact,
                    op=rule.op,
                    value=tuple(rule.value) if isinstance(rule.value, list) else rule.value,
                    case_sensitive=rule.case_sensitive,
                )
            )
    links = resolver.policy_links(settings.policy_links)
    contacts = resolver.default_contacts(settings.default_contacts)
    if not settings.policy_links and not settings.use_mdm_links:
        resolver.warnings.append(
            "policy_links is empty and use_mdm_links is false: no policy is linked, no device will be bound"
        )
    if resolver.problems:
        raise SettingsError(resolver.problems)
    # The checks above guarantee these; the asserts narrow the types for readers and checkers.
    assert monitoring and self_service and active and inactive and default_type
    return ResolvedSettings(
        monitoring=monitoring,
        self_service=self_service,
        active_status_id=active.id,
        active_status_name=active.description,
        inactive_status_id=inactive.id,
        inactive_status_name=inactive.description,
        default_type_id=default_type.id,
        default_type_name=default_type.name,
        type_rules=tuple(rules),
        policy_links=links,
        use_mdm_links=settings.use_mdm_links,
        field_mapping=settings.field_mapping.as_dict(),
        protected_fields=tuple(dict.fromkeys(settings.protected_fields)),
        adopt_by_serial=settings.adopt_by_serial,
        management_link_template=settings.management_link_template,
        resolve_alerts_in_mdm=settings.resolve_alerts_in_mdm,
        default_contacts=contacts,
        warnings=tuple(resolver.warnings),
    )


def referenced_companies(
    settings: IntegrationSettings | Mapping[str, Any],
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Return the company identifiers and ids the settings name, so only those need fetching.

    A numeric text may be either, so it is returned in both lists.

    :param settings: the document.
    """
    settings = load_settings(settings)
    identifiers: dict[str, None] = {}
    ids: dict[int, None] = {}
    links: list[PolicyLink | DefaultContact] = [*settings.policy_links, *settings.default_contacts]
    for link in links:
        if isinstance(link.company, int):
            ids[link.company] = None
        else:
            identifiers[link.company] = None
            if _is_number(link.company):
                ids[int(link.company)] = None
    return tuple(identifiers), tuple(ids)
