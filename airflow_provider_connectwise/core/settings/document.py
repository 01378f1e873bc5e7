"""The settings document users write (seed steps 6-16): its sections and their shape rules.

:class:`IntegrationSettings` is the whole document (names or ids everywhere); :func:`as_settings`
checks already-parsed data (a mapping, e.g. decoded JSON or YAML) against it and raises one
:class:`~.problems.SettingsError` listing every shape problem. Reading files and text is the
flow layer's (``flows.settings_loading``); resolving names to ids is ``resolution``'s.

:func:`name_key` is how the document's names are compared with ConnectWise's.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, Literal

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

from airflow_provider_connectwise.core.catalogue import NameOrId
from airflow_provider_connectwise.core.links import DEFAULT_MODE, parse_mode
from airflow_provider_connectwise.core.mapping import (
    DEFAULT_FIELD_MAPPING,
    DEFAULT_MANAGEMENT_LINK_TEMPLATE,
    IDENTITY_FIELDS,
    MAPPED_FIELDS,
    management_link_template_problem,
)
from airflow_provider_connectwise.core.settings.problems import (
    SettingsError,
    did_you_mean,
    document_problem,
    validation_problems,
)
from airflow_provider_connectwise.core.type_rules import TypeRule

__all__ = [
    "BoardSettings",
    "ConfigurationStatusSettings",
    "ConfigurationTypeSettings",
    "DefaultContact",
    "FieldMapping",
    "IntegrationSettings",
    "PolicyLink",
    "as_settings",
    "is_number",
    "name_key",
]


def name_key(text: str) -> str:
    """How settings names are compared: NFC, whitespace collapsed, case-folded."""
    return unicodedata.normalize("NFC", " ".join(text.split())).casefold()


def is_number(text: str) -> bool:
    """Whether a text is an id: ASCII digits only (``str.isdigit`` alone accepts "²", which int() refuses)."""
    return text.isascii() and text.isdigit()


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

    @classmethod
    def refused_key_reason(cls, key: str) -> str | None:
        """Why an identity field cannot be mapped (see :func:`~.problems.validation_problems`)."""
        if key not in IDENTITY_FIELDS:
            return None
        return (
            f"{key!r} is not mapped from a fact: deviceIdentifier is always the agent id and "
            "managementLink the rendered management_link_template"
        )

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
            f"unknown field {value!r}{did_you_mean(value, MAPPED_FIELDS)}; fields: {', '.join(MAPPED_FIELDS)}"
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


def as_settings(data: object) -> IntegrationSettings:
    """Check already-parsed settings data against the document's shape (names are not resolved).

    :param data: the document as a mapping (decoded JSON or YAML, a dict written in a DAG); an
        :class:`IntegrationSettings` is returned as is.
    :raises SettingsError: every problem found (unknown keys, wrong types, bad rules...), or one
        when ``data`` is not a mapping at all.
    """
    if isinstance(data, IntegrationSettings):
        return data
    if not isinstance(data, Mapping):
        raise document_problem(f"the settings must be a mapping of settings, got {type(data).__name__}")
    try:
        return IntegrationSettings.model_validate(dict(data))
    except ValidationError as exc:
        raise SettingsError(validation_problems(exc, IntegrationSettings)) from None
