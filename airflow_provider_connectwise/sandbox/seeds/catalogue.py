"""The catalogue every seed starts from: the MSP's own company, boards and their statuses,
configuration statuses, types and questions, priorities and ticket classification; and the
client companies and contacts the demo adds (``data.py`` holds what they are)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from ..models import SandboxState, SeedInfo
from . import data as D

#: Seed timestamps are days from here, so every run stores the same dates.
EPOCH = datetime(2025, 1, 6, 9, 0, 0, tzinfo=timezone.utc)


def ts(days: float) -> str:
    """The timestamp ``days`` after ``EPOCH`` (negative: before), as ConnectWise writes it."""
    return (EPOCH + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_catalogue(state: SandboxState, info: SeedInfo) -> SeedInfo:
    """Boards, statuses, configuration statuses/types, priorities and the MSP's own company."""

    def company(identifier: str, name: str, **extra: Any) -> int:
        return add_company(state, info, identifier, name, **extra)

    identifier, name, extra = D.OWN_COMPANY
    company(identifier, name, **extra)
    _seed_boards(state, info)
    _seed_configuration_catalogue(state, info)
    _seed_priorities(state, info)
    seed_classification(state, info)
    info.notes["company"] = company
    return info


def add_company(state: SandboxState, info: SeedInfo, identifier: str, name: str, /, **extra: Any) -> int:
    """Store a client company (a Tampa address unless ``extra`` says otherwise); return its id.

    ``extra`` may hold a field called ``state``, hence the positional-only parameters.
    """
    rec = state.connectwise.insert(
        "companies",
        {
            "identifier": identifier,
            "name": name,
            "status": {"id": 1, "name": "Active"},
            "addressLine1": extra.pop("addressLine1", "1 Main Street"),
            "city": extra.pop("city", "Tampa"),
            "state": extra.pop("state", "FL"),
            "zip": extra.pop("zip", "33602"),
            "phoneNumber": extra.pop("phoneNumber", "8135550100"),
            "website": extra.pop("website", f"www.{identifier.lower()}.example"),
            "types": [{"id": 1, "name": "Client"}],
            "deletedFlag": extra.pop("deletedFlag", False),
            **extra,
        },
        entered=ts(-400),
    )
    info.companies[identifier] = rec["id"]
    return rec["id"]


def _seed_boards(state: SandboxState, info: SeedInfo) -> None:
    ins = state.connectwise.insert
    for board_name, board in D.BOARDS.items():
        rec = ins(
            "boards",
            {
                "name": board_name,
                "location": {"id": 2, "name": "Tampa Office"},
                "department": {"id": 10, "name": "Services"},
                "inactiveFlag": board["inactive"],
                "projectFlag": False,
                "billTime": "Billable",
                "billExpense": "Billable",
                "billProduct": "Billable",
            },
            entered=ts(-300),
        )
        info.boards[board_name] = rec["id"]
        info.board_statuses[board_name] = {}
        for status_name, sort, flags in board["statuses"]:
            closed = flags.get("closed", False)
            status = ins(
                "board_statuses",
                {
                    "name": status_name,
                    "board": {"id": rec["id"]},
                    "sortOrder": sort,
                    "displayOnBoard": not closed,
                    "inactive": flags.get("inactive", False),
                    "closedStatus": closed,
                    "timeEntryNotAllowed": False,
                    "defaultFlag": flags.get("default", False),
                    "escalationStatus": "Resolved" if closed else "NoEscalation",
                    "customerPortalFlag": False,
                },
                entered=ts(-300),
            )
            info.board_statuses[board_name][status_name] = status["id"]


def _seed_configuration_catalogue(state: SandboxState, info: SeedInfo) -> None:
    ins = state.connectwise.insert
    for desc, closed, default in D.CONFIGURATION_STATUSES:
        rec = ins(
            "configuration_statuses",
            {"description": desc, "closedFlag": closed, "defaultFlag": default},
            entered=ts(-300),
        )
        info.configuration_statuses[desc] = rec["id"]
    for tname, inactive in D.CONFIGURATION_TYPES:
        rec = ins(
            "configuration_types",
            {"name": tname, "inactiveFlag": inactive, "systemFlag": False},
            entered=ts(-300),
        )
        info.configuration_types[tname] = rec["id"]
    for type_name, label, text, seq, required, inactive in D.CONFIGURATION_TYPE_QUESTIONS:
        rec = ins(
            "configuration_type_questions",
            {
                "configurationType": {"id": info.configuration_types[type_name]},
                "fieldType": "Text",
                "entryType": "EntryField",
                "sequenceNumber": seq,
                "question": text,
                "numberOfDecimals": 0,
                "requiredFlag": required,
                "inactiveFlag": inactive,
            },
            entered=ts(-300),
        )
        info.configuration_type_questions[label] = rec["id"]


def _seed_priorities(state: SandboxState, info: SeedInfo) -> None:
    for pid, (pname, level, default, color) in enumerate(D.PRIORITIES, start=1):
        rec = state.connectwise.insert(
            "priorities",
            {
                "id": pid,
                "name": pname,
                "color": color,
                "sort": pid * 2,
                "sortOrder": pid * 2,
                "level": level,
                "defaultFlag": default,
            },
        )
        info.priorities[pname] = rec["id"]


def seed_classification(state: SandboxState, info: SeedInfo) -> None:
    """Board types, subtypes and items of the Monitoring and Help Desk boards."""
    for board_name, kinds in D.CLASSIFICATION.items():
        board_id = info.boards.get(board_name)
        if board_id is None:
            continue
        for key, names in kinds.items():
            for index, name in enumerate(names):
                rec = state.connectwise.insert(
                    key,
                    {"name": name, "board": {"id": board_id}, "inactiveFlag": index == len(names) - 1},
                )
                info.classification.setdefault(board_name, {}).setdefault(key, {})[name] = rec["id"]


def seed_contacts(state: SandboxState, info: SeedInfo) -> None:
    """Contacts of AcmeCorp and Globex, with e-mail addresses (one contact has two, one none)."""
    for label, company, first, last, emails in D.CONTACTS:
        items = [
            {
                "type": {"id": 1, "name": "Email"},
                "communicationType": "Email",
                "value": e,
                "defaultFlag": i == 0,
            }
            for i, e in enumerate(emails)
        ]
        rec = state.connectwise.insert(
            "contacts",
            {
                "firstName": first,
                "lastName": last,
                "company": {"id": info.companies[company]},
                "inactiveFlag": False,
                "communicationItems": items,
            },
        )
        info.contacts[label] = rec["id"]
