"""The sandbox's ticket notes, classification look-ups and contacts over HTTP (strict mode)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_connectwise.sandbox.models import notes

from .conftest import CW


def new_ticket(cw: CW, seed: Any, **fields: Any) -> dict[str, Any]:
    body = {
        "summary": "Disk full",
        "company": {"id": seed.companies["AcmeCorp"]},
        "board": {"id": seed.boards["Monitoring"]},
        **fields,
    }
    resp = cw.post("/service/tickets", body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_notes_keep_their_flags_and_the_description_is_the_first_note(cw: CW, seed: Any) -> None:
    ticket = new_ticket(cw, seed, initialDescription="The disk is 98% full.")
    path = f"/service/tickets/{ticket['id']}/notes"
    created = cw.post(path, {"text": "Cleaned /tmp", "resolutionFlag": True, "internalAnalysisFlag": True})
    assert created.status_code == 201
    note = created.json()
    assert (note["ticketId"], note["resolutionFlag"], note["internalAnalysisFlag"]) == (
        ticket["id"],
        True,
        True,
    )
    listed = cw.get(path, {"fields": "id,text,detailDescriptionFlag"}).json()
    assert listed == [
        {"id": listed[0]["id"], "text": "The disk is 98% full.", "detailDescriptionFlag": True},
        {"id": note["id"], "text": "Cleaned /tmp"},
    ]
    assert cw.get(f"{path}/{note['id']}").json()["text"] == "Cleaned /tmp"
    patched = cw.patch(f"{path}/{note['id']}", [{"op": "replace", "path": "text", "value": "Cleaned /var"}])
    assert patched.status_code == 200 and patched.json()["text"] == "Cleaned /var"
    assert cw.client.delete(f"/v2025_1/apis/3.0{path}/{note['id']}", headers=cw.headers).status_code == 204
    assert cw.get(f"{path}/{note['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"internalAnalysisFlag": True}, "text"),
        ({"text": "  ", "internalAnalysisFlag": True}, "text"),
        ({"text": "no flag"}, "detailDescriptionFlag"),
        ({"text": "x", "resolutionFlag": "yes"}, "resolutionFlag"),
    ],
)
def test_a_note_without_text_or_a_flag_is_refused(cw: CW, seed: Any, body: dict, field: str) -> None:
    ticket = new_ticket(cw, seed)
    resp = cw.post(f"/service/tickets/{ticket['id']}/notes", body)
    assert resp.status_code == 400
    answer = resp.json()  # strict mode refuses a wrong type before the model sees it
    assert field in {e["field"] for e in answer.get("errors") or []} or field in answer["message"]


def test_notes_of_an_unknown_ticket_are_not_found(cw: CW) -> None:
    assert cw.get("/service/tickets/1/notes").status_code == 404
    assert cw.post("/service/tickets/1/notes", {"text": "x", "internalAnalysisFlag": True}).status_code == 404


def test_all_notes_merge_ticket_notes_and_time_entries(cw: CW, seed: Any, rt: Any) -> None:
    ticket = new_ticket(cw, seed)
    cw.post(f"/service/tickets/{ticket['id']}/notes", {"text": "ours", "detailDescriptionFlag": True})
    notes.log_time(rt.state.connectwise, ticket["id"], "on site", technician="amy")
    merged = cw.get(
        f"/service/tickets/{ticket['id']}/allNotes", {"fields": "noteType,text,member/identifier"}
    )
    assert merged.json() == [
        {"noteType": "TicketNote", "text": "ours", "member": {"identifier": "AirflowAPI"}},
        {"noteType": "TimeEntryNote", "text": "on site", "member": {"identifier": "amy"}},
    ]
    only_time = cw.get(
        f"/service/tickets/{ticket['id']}/allNotes", {"conditions": 'noteType="TimeEntryNote"'}
    )
    assert [n["text"] for n in only_time.json()] == ["on site"]


def test_classification_lookups_per_board_and_priorities(cw: CW, seed: Any) -> None:
    board = seed.boards["Monitoring"]
    types = cw.get(f"/service/boards/{board}/types", {"conditions": "inactiveFlag=false"}).json()
    assert [t["name"] for t in types] == ["Alert", "Maintenance"]
    assert [i["name"] for i in cw.get(f"/service/boards/{board}/items").json()][:3] == [
        "Disk",
        "Battery",
        "CPU",
    ]
    assert cw.get(f"/service/boards/{board}/subtypes").json()[0]["board"]["id"] == board
    assert cw.get("/service/boards/999/types").status_code == 404
    priorities = cw.get("/service/priorities", {"fields": "name,color"}).json()
    assert priorities[0] == {"name": "Priority 1 - Emergency Response", "color": "Red"}


def test_a_ticket_takes_only_its_boards_classification_and_its_companys_contact(cw: CW, seed: Any) -> None:
    mon, desk = seed.classification["Monitoring"], seed.classification["Help Desk"]
    ticket = new_ticket(
        cw,
        seed,
        type={"id": mon["board_types"]["Alert"]},
        item={"id": mon["board_items"]["Disk"]},
        contact={"id": seed.contacts["ann"]},
    )
    assert (ticket["type"]["name"], ticket["contact"]["id"]) == ("Alert", seed.contacts["ann"])
    for field, value in (
        ("type", {"id": desk["board_types"]["Request"]}),  # another board's
        ("subType", {"id": mon["board_subtypes"]["Retired Subtype"]}),  # inactive
        ("item", {"id": 99999}),  # unknown
        ("contact", {"id": seed.contacts["carl"]}),  # a Globex contact on an AcmeCorp ticket
    ):
        resp = cw.post(
            "/service/tickets",
            {
                "summary": "x",
                "company": {"id": seed.companies["AcmeCorp"]},
                "board": {"id": seed.boards["Monitoring"]},
                field: value,
            },
        )
        assert resp.status_code == 400, field
        assert resp.json()["errors"][0]["field"] == f"{field}/id"


def test_contacts_by_company_with_their_email_addresses(cw: CW, seed: Any) -> None:
    acme = seed.companies["AcmeCorp"]
    found = cw.get(
        "/company/contacts", {"conditions": f"company/id={acme}", "fields": "id,firstName,communicationItems"}
    )
    assert [c["firstName"] for c in found.json()] == ["Ann", "Ben", "Service"]
    ben = cw.get(f"/company/contacts/{seed.contacts['ben']}").json()
    assert [i["value"] for i in ben["communicationItems"]] == ["ben.baker@acme.example", "Ben@Home.example"]
    assert ben["company"]["identifier"] == "AcmeCorp"
