"""The switch (seed step 16): check the settings against ConnectWise and resolve names to ids.

:func:`resolve_settings` checks an :class:`~.document.IntegrationSettings` against the
:class:`~airflow_provider_connectwise.core.catalogue.Catalogue` that "Next" fetched and returns
:class:`~.resolved.ResolvedSettings`, or raises one :class:`~.problems.SettingsError` listing
every problem. :func:`referenced_companies` says which companies the catalogue must hold.

The resolver walks the document section by section: each method resolves one kind of reference
(a board and its statuses, a ticket classification, configuration statuses and types, companies,
contacts) and records a problem instead of stopping, so the switch reports them all at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_provider_connectwise.core import printable
from airflow_provider_connectwise.core.catalogue import (
    Board,
    BoardStatus,
    Catalogue,
    Company,
    ConfigurationStatus,
    ConfigurationType,
)
from airflow_provider_connectwise.core.settings.document import (
    BoardSettings,
    ConfigurationStatusSettings,
    DefaultContact,
    IntegrationSettings,
    PolicyLink,
    as_settings,
    is_number,
    name_key,
)
from airflow_provider_connectwise.core.settings.problems import (
    SettingsError,
    SettingsProblem,
    choice_list,
    choices_text,
    shown,
)
from airflow_provider_connectwise.core.settings.resolved import (
    ResolvedBoard,
    ResolvedPolicyLink,
    ResolvedSettings,
)
from airflow_provider_connectwise.core.type_rules import ResolvedTypeRule, TypeRule

__all__ = ["referenced_companies", "resolve_settings"]


def resolve_settings(
    settings: IntegrationSettings | Mapping[str, Any], catalogue: Catalogue
) -> ResolvedSettings:
    """Resolve every name to its id and check the settings against ConnectWise ("the switch").

    :param settings: the document (checked with :func:`~.document.as_settings` when given as a dict).
    :param catalogue: what "Next" fetched, including the companies the settings reference
        (see :func:`referenced_companies`).
    :raises SettingsError: every problem found, each naming the setting, the value and the choices.
    """
    settings = as_settings(settings)
    resolver = _Resolver(catalogue)
    monitoring = resolver.board("monitoring", settings.monitoring)
    self_service = resolver.board("self_service", settings.self_service)
    active, inactive = resolver.configuration_statuses(settings.configuration_statuses)
    default_type = resolver.configuration_type(
        "configuration_types.default", settings.configuration_types.default
    )
    rules = resolver.type_rules(settings.configuration_types.conditional)
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
        type_rules=rules,
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
    settings = as_settings(settings)
    identifiers: dict[str, None] = {}
    ids: dict[int, None] = {}
    links: list[PolicyLink | DefaultContact] = [*settings.policy_links, *settings.default_contacts]
    for link in links:
        if isinstance(link.company, int):
            ids[link.company] = None
        else:
            identifiers[link.company] = None
            if is_number(link.company):
                ids[int(link.company)] = None
    return tuple(identifiers), tuple(ids)


def _quoted(name: str, limit: int = 80) -> str:
    return printable(repr(name), limit)


def _ids(records: Iterable[Any]) -> str:
    return ", ".join(str(record.id) for record in records)


class _Resolver:
    """Collects every problem while resolving, so "the switch" reports them all at once."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.problems: list[SettingsProblem] = []
        self.warnings: list[str] = []

    def problem(self, path: str, message: str, value: Any = None, choices: tuple[str, ...] = ()) -> None:
        self.problems.append(SettingsProblem(path, message, value=value, choices=choices))

    # finding a reference ------------------------------------------------------------------------

    def find(self, value: int | str, records: Sequence[Any], attr: str) -> tuple[Any, list[Any]]:
        """Return (the record, []) or (None, the records sharing the name when it is ambiguous)."""
        if isinstance(value, int) or is_number(value):
            by_id = [record for record in records if record.id == int(value)]
            if by_id or isinstance(value, int):
                return (by_id[0] if by_id else None), []
        same = [record for record in records if name_key(getattr(record, attr)) == name_key(value)]
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
        names = choice_list(getattr(record, attr) for record in choices)
        if same:
            message = f"{kind} {shown(value)} is ambiguous: ids {_ids(same)} share it; use the id"
        else:
            message = f"{kind} {shown(value)} not found; {choices_text(label, names)}"
        self.problem(path, message, value, names)
        return None

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
            names = choice_list(r.name for r in active)
            self.problem(
                path, f"{kind} {_quoted(found.name)} is inactive; {choices_text(label, names)}", value, names
            )
            return None
        return found

    # boards -------------------------------------------------------------------------------------

    def board(self, path: str, section: BoardSettings) -> ResolvedBoard | None:
        """A board section by id: the board, its open and closed statuses, its classification."""
        board = self.active_board(f"{path}.board", section.board)
        if board is None:
            # Its statuses are not checked: another board has to be chosen anyway.
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

    def active_board(self, path: str, value: int | str) -> Board | None:
        boards = self.catalogue.boards
        active = [board for board in boards if not board.inactive]
        board: Board | None = self.pick(path, value, boards, kind="board", label="boards", choices=active)
        if board is not None and board.inactive:
            names = choice_list(b.name for b in active)
            self.problem(
                path,
                f"board {_quoted(board.name)} is inactive; {choices_text('active boards', names)}",
                value,
                names,
            )
            return None
        return board

    def classification(self, path: str, section: BoardSettings, board: Board) -> dict[str, Any] | None:
        """Ticket type, subtype, item and priorities of a board section, by id (None on a problem)."""
        before = len(self.problems)
        board_name = printable(repr(board.name), 40)
        kinds = (("type", board.types), ("subtype", board.subtypes), ("item", board.items))
        out: dict[str, Any] = {}
        for name, records in kinds:
            value = getattr(section, name)
            found = self.named(f"{path}.{name}", value, records, f"{board_name} ticket {name}", f"{name}s")
            out[f"{name}_id"] = found.id if found else None
        out["priority_id"] = self.priority(f"{path}.priority", section.priority)
        out["priority_by_severity"] = {}
        for severity, value in section.priority_by_severity.items():
            found_id = self.priority(f"{path}.priority_by_severity.{severity}", value)
            if found_id is not None:
                out["priority_by_severity"][severity] = found_id
        return out if len(self.problems) == before else None

    def priority(self, path: str, value: int | str | None) -> int | None:
        found = self.named(path, value, self.catalogue.priorities, "priority", "priorities")
        return found.id if found else None

    def status(self, path: str, value: int | str, board: Board, *, closed: bool) -> BoardStatus | None:
        """An open (or closed) status of a board; a problem says why another is needed."""
        usable = [s for s in board.statuses if (s.usable_as_closed if closed else s.usable_as_open)]
        kind = "closed" if closed else "open"
        board_name = _quoted(board.name)
        names = choice_list(s.name for s in usable)
        listing = choices_text(f"{kind} statuses of {board_name}", names)
        status, same = self.find(value, board.statuses, "name")
        if status is None and not same:
            owner = self.board_with_status(value, board)
            where = (
                f"belongs to board {_quoted(owner.name)}, not {board_name}"
                if owner is not None
                else f"not found on board {board_name}"
            )
            self.problem(path, f"status {shown(value)} {where}; {listing}", value, names)
            return None
        if status is None:
            self.problem(
                path,
                f"status {shown(value)} is ambiguous on board {board_name}: ids {_ids(same)}; use the id",
            )
            return None
        if closed and not status.closed:
            wrong = "is not a closed status"
        elif not closed and status.closed:
            wrong = "is a closed status"
        elif status.inactive:
            wrong = "is inactive"
        else:
            return status
        self.problem(path, f"status {_quoted(status.name)} {wrong}; {listing}", value, names)
        return None

    def board_with_status(self, value: int | str, board: Board) -> Board | None:
        """The first other board that has the status (so the problem can say whose it is)."""
        for other in self.catalogue.boards:
            if other.id != board.id and self.find(value, other.statuses, "name")[0] is not None:
                return other
        return None

    # configuration statuses and types -----------------------------------------------------------

    def configuration_statuses(
        self, section: ConfigurationStatusSettings
    ) -> tuple[ConfigurationStatus | None, ConfigurationStatus | None]:
        """The active (open) and inactive configuration statuses; the two must differ."""
        statuses = self.catalogue.configuration_statuses
        path = "configuration_statuses"
        opened = [s for s in statuses if not s.closed]
        active = self.configuration_status(
            f"{path}.active", section.active, "open configuration statuses", opened
        )
        inactive = self.configuration_status(
            f"{path}.inactive", section.inactive, "configuration statuses", statuses
        )
        if active is not None and active.closed:
            names = choice_list(s.description for s in opened)
            self.problem(
                f"{path}.active",
                f"configuration status {_quoted(active.description)} is a closed status; linked "
                f"devices need an open one; {choices_text('open configuration statuses', names)}",
                section.active,
                names,
            )
            active = None
        if active is not None and inactive is not None:
            if active.id == inactive.id:
                self.problem(
                    f"{path}.inactive",
                    f"configuration status {_quoted(inactive.description)} is also the active "
                    "status; removed devices need a different one",
                    section.inactive,
                )
                inactive = None
            elif not inactive.closed:
                self.warnings.append(
                    f"{path}.inactive: configuration status {_quoted(inactive.description)} is not a "
                    "closed status; configurations of removed devices will stay in open lists"
                )
        return active, inactive

    def configuration_status(
        self, path: str, value: int | str, label: str, choices: Sequence[ConfigurationStatus]
    ) -> ConfigurationStatus | None:
        statuses = self.catalogue.configuration_statuses
        kind = "configuration status"
        return self.pick(path, value, statuses, kind=kind, label=label, choices=choices, attr="description")

    def configuration_type(self, path: str, value: int | str) -> ConfigurationType | None:
        """A usable configuration type: active, and without required questions (seed step 15)."""
        types = self.catalogue.configuration_types
        usable = [kind for kind in types if kind.usable]
        names = choice_list(kind.name for kind in usable)
        listing = choices_text("usable types", names)
        found: ConfigurationType | None = self.pick(
            path, value, types, kind="configuration type", label="usable types", choices=usable
        )
        if found is None:
            return None
        type_name = _quoted(found.name)
        if found.inactive:
            self.problem(path, f"configuration type {type_name} is inactive; {listing}", value, names)
            return None
        if found.required_questions:
            questions = ", ".join(_quoted(q) for q in found.required_questions)
            self.problem(
                path,
                f"configuration type {type_name} has required questions ({questions}); devices cannot be linked "
                f"with a type that has required questions; {listing}",
                value,
                names,
            )
            return None
        return found

    def type_rules(self, rules: Sequence[TypeRule]) -> tuple[ResolvedTypeRule, ...]:
        """The conditional types, in order; a rule with a problem is left out (and reported)."""
        out = []
        for index, rule in enumerate(rules):
            path = f"configuration_types.conditional[{index}]"
            kind = self.configuration_type(f"{path}.type", rule.type)
            problem = rule.pattern_problem()
            if problem:
                self.problem(f"{path}.value", problem, rule.value)
            elif kind is not None:
                value = tuple(rule.value) if isinstance(rule.value, list) else rule.value
                out.append(
                    ResolvedTypeRule(
                        kind.id, rule.fact, rule.op, value, rule.case_sensitive, type_name=kind.name
                    )
                )
        return tuple(out)

    # companies and their contacts ---------------------------------------------------------------

    def company(self, path: str, value: int | str) -> Company | None:
        """A company by identifier or id (never by name: names are not unique); not deleted."""
        found, same = self.find(value, self.catalogue.companies, "identifier")
        if found is None:
            if same:
                self.problem(
                    path, f"company {shown(value)} is ambiguous: ids {_ids(same)}; use the id", value
                )
            else:
                self.problem(
                    path,
                    f"company {shown(value)} not found (companies are named by identifier or id)",
                    value,
                )
            return None
        if found.deleted:
            self.problem(
                path, f"company {_quoted(found.identifier)} ({printable(found.name, 80)}) is deleted", value
            )
            return None
        return found

    def policy_links(self, links: Sequence[PolicyLink]) -> tuple[ResolvedPolicyLink, ...]:
        """The explicit links by company id; a policy linked twice to different companies is a problem."""
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
                    f"policy {_quoted(link.policy)} is already linked to company "
                    f"{_quoted(first.company_identifier)} by policy_links[{first_index}]; a policy "
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

    def default_contacts(self, entries: Sequence[DefaultContact]) -> dict[int, int]:
        """Company id -> contact id; a contact is named by e-mail (any of its addresses) or full name."""
        out: dict[int, int] = {}
        for index, entry in enumerate(entries):
            path = f"default_contacts[{index}]"
            company = self.company(f"{path}.company", entry.company)
            if company is None:
                continue
            contact_id = self.contact(f"{path}.contact", entry.contact, company)
            if contact_id is not None:
                out[company.id] = contact_id
        return out

    def contact(self, path: str, value: str, company: Company) -> int | None:
        """An active contact of the company by e-mail address or full name (its id)."""
        people = [c for c in self.catalogue.contacts if c.company_id == company.id]
        wanted = name_key(value)
        by_email = [c for c in people if any(name_key(e) == wanted for e in c.emails)]
        same = by_email or [c for c in people if name_key(c.name) == wanted]
        usable = [c for c in people if not c.inactive]
        names = choice_list(c.name or (c.emails[0] if c.emails else f"id {c.id}") for c in usable)
        company_shown = _quoted(company.identifier, 60)
        if not same:
            listing = choices_text(f"contacts of {company_shown}", names)
            self.problem(path, f"contact {shown(value)} not found; {listing}", value, names)
        elif len(same) > 1:
            self.problem(
                path,
                f"contact {shown(value)} is ambiguous in {company_shown}: ids {_ids(same)} share it; use an e-mail address",
                value,
            )
        elif same[0].inactive:
            listing = choices_text(f"active contacts of {company_shown}", names)
            self.problem(path, f"contact {shown(value)} is inactive; {listing}", value, names)
        else:
            return same[0].id
        return None
