"""Declarative description of the ConnectWise entities the sandbox keeps (what references what)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RefSpec:
    """A reference field (``{"id": n, "name": ...}``) and how the server fills it in.

    :param target: key of the collection holding the referenced entity; ``None`` for references to
        entities the sandbox does not model (stored and returned as sent).
    :param attrs: ``(reference attribute, target attribute)`` pairs the server fills from the target.
    :param lookup: the attribute a client may use instead of ``id`` to name the target (e.g. a company's
        ``identifier``).
    :param info_key: the ``_info`` key of the href, e.g. ``company_href``.
    """

    target: str | None
    attrs: tuple[tuple[str, str], ...] = (("name", "name"),)
    lookup: str | None = "name"
    info_key: str | None = None


@dataclass(frozen=True)
class Resource:
    """One ConnectWise entity kind.

    :param key: collection key (``"configurations"``).
    :param label: the ``resource`` named in errors (``"configuration"``).
    :param title: the entity named in NotFound messages (``"Configuration"``).
    :param schema: OpenAPI schema name.
    :param path: path relative to ``apis/3.0`` of one entity, with ``{id}``.
    :param refs: reference fields.
    :param extra_datetime_fields: string fields that hold datetimes although the document has no format.
    :param indexed: condition paths kept in an index (equality look-ups in O(1)).
    :param parent: ``(condition path, title)`` for child collections (``board/id`` of a board status).
    :param display: the attribute shown as the entity's name.
    """

    key: str
    label: str
    title: str
    schema: str
    path: str
    refs: dict[str, RefSpec] = field(default_factory=dict)
    extra_datetime_fields: tuple[str, ...] = ()
    indexed: tuple[str, ...] = ()
    parent: tuple[str, str] | None = None
    display: str = "name"
    first_id: int = 1


COMPANY_REF = RefSpec(
    "companies", (("identifier", "identifier"), ("name", "name")), "identifier", "company_href"
)

COMPANIES = Resource(
    "companies",
    "company",
    "Company",
    "Company",
    "company/companies/{id}",
    refs={
        "status": RefSpec(None, info_key="status_href"),
        "parentCompany": COMPANY_REF,
        "billToCompany": COMPANY_REF,
        "types": RefSpec(None),
        "site": RefSpec(None, info_key="site_href"),
        "country": RefSpec(None, info_key="country_href"),
        "territory": RefSpec(None, info_key="location_href"),
        "market": RefSpec(None, info_key="market_href"),
        "defaultContact": RefSpec(None, info_key="contact_href"),
    },
    indexed=("identifier",),
    display="name",
    first_id=250,
)

BOARDS = Resource(
    "boards",
    "board",
    "Service Board",
    "Board",
    "service/boards/{id}",
    refs={
        "location": RefSpec(None, info_key="location_href"),
        "department": RefSpec(None, info_key="department_href"),
        "workRole": RefSpec(None, info_key="workRole_href"),
        "workType": RefSpec(None, info_key="workType_href"),
    },
    first_id=1,
)

BOARD_STATUSES = Resource(
    "board_statuses",
    "boardStatus",
    "Service Status",
    "BoardStatus",
    "service/boards/{board}/statuses/{id}",
    refs={"board": RefSpec("boards", info_key="board_href")},
    indexed=("board/id",),
    parent=("board/id", "Service Board"),
    first_id=100,
)

CONFIGURATION_STATUSES = Resource(
    "configuration_statuses",
    "configurationStatus",
    "Configuration Status",
    "ConfigurationStatus",
    "company/configurations/statuses/{id}",
    display="description",
    first_id=1,
)

CONFIGURATION_TYPES = Resource(
    "configuration_types",
    "configurationType",
    "Configuration Type",
    "ConfigurationType",
    "company/configurations/types/{id}",
    first_id=10,
)

CONFIGURATION_TYPE_QUESTIONS = Resource(
    "configuration_type_questions",
    "configurationTypeQuestion",
    "Configuration Type Question",
    "ConfigurationTypeQuestion",
    "company/configurations/types/{type}/questions/{id}",
    refs={"configurationType": RefSpec("configuration_types", info_key="configurationType_href")},
    indexed=("configurationType/id",),
    parent=("configurationType/id", "Configuration Type"),
    display="question",
    first_id=40,
)

CONFIGURATIONS = Resource(
    "configurations",
    "configuration",
    "Configuration",
    "Company.Configuration",
    "company/configurations/{id}",
    refs={
        "type": RefSpec("configuration_types", info_key="type_href"),
        "status": RefSpec("configuration_statuses", (("name", "description"),), "name", "status_href"),
        "company": COMPANY_REF,
        "vendor": COMPANY_REF,
        "contact": RefSpec(None, info_key="contact_href"),
        "site": RefSpec(None, info_key="site_href"),
        "location": RefSpec(None, info_key="location_href"),
        "department": RefSpec(None, info_key="department_href"),
        "installedBy": RefSpec(None, (("identifier", "identifier"), ("name", "name")), None, "member_href"),
        "manufacturer": RefSpec(None, info_key="manufacturer_href"),
        "sla": RefSpec(None, info_key="sla_href"),
    },
    indexed=("company/id", "deviceIdentifier"),
    first_id=5000,
)

PRIORITIES = Resource(
    "priorities",
    "priority",
    "Priority",
    "Priority",
    "service/priorities/{id}",
    first_id=1,
)

TICKETS = Resource(
    "tickets",
    "ticket",
    "Ticket",
    "Ticket",
    "service/tickets/{id}",
    refs={
        "board": RefSpec("boards", info_key="board_href"),
        "status": RefSpec("board_statuses", (("name", "name"), ("sort", "sortOrder")), "name", "status_href"),
        "company": COMPANY_REF,
        "priority": RefSpec(
            "priorities", (("name", "name"), ("sort", "sort"), ("level", "level")), "name", "priority_href"
        ),
        "workRole": RefSpec(None, info_key="workRole_href"),
        "workType": RefSpec(None, info_key="workType_href"),
        "site": RefSpec(None, info_key="site_href"),
        "country": RefSpec(None, info_key="country_href"),
        "contact": RefSpec("contacts", (("name", "firstName"),), None, "contact_href"),
        "type": RefSpec("board_types", info_key="type_href"),
        "subType": RefSpec("board_subtypes", info_key="subType_href"),
        "item": RefSpec("board_items", info_key="item_href"),
        "team": RefSpec(None, info_key="team_href"),
        "owner": RefSpec(None, (("identifier", "identifier"), ("name", "name")), None, "member_href"),
        "serviceLocation": RefSpec(None, info_key="location_href"),
        "source": RefSpec(None, info_key="source_href"),
        "opportunity": RefSpec(None, info_key="opportunity_href"),
        "agreement": RefSpec(None, info_key="agreement_href"),
        "location": RefSpec(None, info_key="location_href"),
        "department": RefSpec(None, info_key="department_href"),
        "sla": RefSpec(None, info_key="sla_href"),
        "currency": RefSpec(None, info_key="currency_href"),
        "mergedParentTicket": RefSpec("tickets", (("summary", "summary"),), None, "ticket_href"),
    },
    extra_datetime_fields=(
        "closedDate",
        "dateResolved",
        "dateResplan",
        "dateResponded",
        "subDateAccepted",
        "escalationStartDateUTC",
    ),
    indexed=("company/id",),
    display="summary",
    first_id=90000,
)

ALL = (
    COMPANIES,
    BOARDS,
    BOARD_STATUSES,
    CONFIGURATION_STATUSES,
    CONFIGURATION_TYPES,
    CONFIGURATION_TYPE_QUESTIONS,
    CONFIGURATIONS,
    PRIORITIES,
    TICKETS,
)

#: Ticket fields accepted on POST only and never returned.
TICKET_POST_ONLY = ("initialDescription", "initialInternalAnalysis", "initialResolution")
