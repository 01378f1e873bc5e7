"""ConnectWiseHook's ticket methods against a mocked ConnectWise: the reference re-check, notes,
classification look-ups and contacts (every request checked against the official document)."""

from __future__ import annotations

import json

import pytest

from tests.hooks.conftest import API


def test_find_tickets_rechecks_a_server_side_match_in_python(hook, cw_api):
    # a server that folds case or treats the value as a pattern must not hand over another
    # alert's ticket
    cw_api.get(
        API + "service/tickets",
        json=[
            {"id": 1, "externalXRef": "ALERT-1"},
            {"id": 2, "externalXRef": "alert-10"},
            {"id": 3, "externalXRef": "alert-1"},
            {"id": 4},
        ],
    )
    assert [t["id"] for t in hook.find_tickets(board_id=1, external_ref="alert-1")] == [3]
    assert [t["id"] for t in hook.find_tickets(board_id=1)] == [1, 2, 3, 4]


def test_notes_are_read_and_written_on_the_ticket(hook, cw_api):
    cw_api.get(API + "service/tickets/500/notes", json=[{"id": 9, "text": "x", "internalAnalysisFlag": True}])
    cw_api.get(API + "service/tickets/500/allNotes", json=[{"id": 9, "noteType": "TicketNote"}])
    cw_api.post(API + "service/tickets/500/notes", status_code=201, json={"id": 10})
    assert hook.list_ticket_notes(500)[0]["id"] == 9
    assert hook.list_ticket_all_notes(500)[0]["noteType"] == "TicketNote"
    body = {
        "text": "Resolved",
        "resolutionFlag": True,
        "internalAnalysisFlag": True,
        "detailDescriptionFlag": False,
    }
    assert hook.create_ticket_note(500, body)["id"] == 10
    assert json.loads(cw_api.last_request.body) == body


def test_classification_and_contact_lookups(hook, cw_api):
    cw_api.get(API + "service/priorities", json=[{"id": 1, "name": "P1"}])
    for kind in ("types", "subtypes", "items"):
        cw_api.get(API + f"service/boards/3/{kind}", json=[{"id": 7, "name": kind}])
    cw_api.get(API + "company/contacts", json=[{"id": 80, "company": {"id": 250}}])
    assert hook.list_priorities()[0]["name"] == "P1"
    assert [hook.list_board_classification(3, k)[0]["name"] for k in ("types", "subtypes", "items")] == [
        "types",
        "subtypes",
        "items",
    ]
    with pytest.raises(ValueError, match="types, subtypes or items"):
        hook.list_board_classification(3, "sources")
    assert hook.find_contacts([251, 250])[0]["id"] == 80
    assert cw_api.last_request.qs["conditions"] == ["company/id in (250, 251)"]
    assert "communicationitems" in cw_api.last_request.qs["fields"][0]
    assert hook.find_contacts([]) == []
