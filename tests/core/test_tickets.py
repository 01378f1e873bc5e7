from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_connectwise.core.tickets import (
    TicketInputError,
    closed_at,
    decide_ticket,
    external_ref_text,
    is_closed,
    summary_text,
)

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)
HOUR = dt.timedelta(hours=1)


def ticket(tid, *, closed=False, closed_minutes_ago=None, status=None):
    t = {"id": tid, "closedFlag": closed, "status": {"id": status or (9 if closed else 1)}}
    if closed_minutes_ago is not None:
        t["closedDate"] = (NOW - dt.timedelta(minutes=closed_minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return t


def test_no_ticket_means_create():
    assert decide_ticket([], now=NOW, reopen_window=HOUR).action == "create"


def test_an_open_ticket_is_returned_not_duplicated():
    decision = decide_ticket([ticket(7), ticket(3)], now=NOW, reopen_window=HOUR)
    assert decision.action == "existing"
    assert decision.ticket["id"] == 3  # the first one opened
    assert "1 more open" in decision.reason


def test_open_wins_over_recently_closed():
    decision = decide_ticket(
        [ticket(3, closed=True, closed_minutes_ago=1), ticket(4)], now=NOW, reopen_window=HOUR
    )
    assert (decision.action, decision.ticket["id"]) == ("existing", 4)


def test_recently_closed_is_reopened():
    tickets = [ticket(3, closed=True, closed_minutes_ago=50), ticket(5, closed=True, closed_minutes_ago=10)]
    decision = decide_ticket(tickets, now=NOW, reopen_window=HOUR)
    assert (decision.action, decision.ticket["id"]) == ("reopen", 5)
    assert "10m ago" in decision.reason


def test_closed_outside_the_window_means_a_new_ticket():
    decision = decide_ticket([ticket(3, closed=True, closed_minutes_ago=61)], now=NOW, reopen_window=HOUR)
    assert decision.action == "create"


def test_zero_window_never_reopens():
    decision = decide_ticket(
        [ticket(3, closed=True, closed_minutes_ago=0)], now=NOW, reopen_window=dt.timedelta(0)
    )
    assert decision.action == "create"


def test_closed_status_ids_count_as_closed():
    assert is_closed({"closedFlag": False, "status": {"id": 12}}, [12])
    assert not is_closed({"closedFlag": False, "status": {"id": 11}}, [12])
    assert is_closed({"closedFlag": True})
    decision = decide_ticket([ticket(3, status=12)], now=NOW, reopen_window=HOUR, closed_status_ids=[12])
    assert decision.action == "create"  # closed by status, but no close time known


def test_closed_at_falls_back_to_last_update():
    t = {"id": 1, "closedFlag": True, "_info": {"lastUpdated": "2026-11-27T11:30:00Z"}}
    assert closed_at(t) == dt.datetime(2026, 11, 27, 11, 30, tzinfo=dt.timezone.utc)
    assert closed_at({"id": 1, "closedDate": "garbage"}) is None


@pytest.mark.parametrize(
    ("text", "prefix", "expected"),
    [
        ("Disk almost full", "", "Disk almost full"),
        ("  Disk\nalmost\tfull  ", "", "Disk almost full"),
        ("CPU high", "Ann's Mac", "Ann's Mac: CPU high"),
        ("bell\x07", "", "bell"),
        ('Quote " and \\ stay', "", 'Quote " and \\ stay'),
    ],
)
def test_summary_text(text, prefix, expected):
    assert summary_text(text, prefix=prefix) == expected


def test_summary_is_trimmed_to_100():
    text = summary_text("x" * 300)
    assert len(text) == 100
    assert text.endswith("…")


def test_empty_summary_is_refused_naming_the_field():
    with pytest.raises(TicketInputError, match="summary"):
        summary_text("\x00\x01 ")


@pytest.mark.parametrize("ref", ["", "   ", "a" * 101, "line\nbreak", "nul\x00"])
def test_bad_external_refs_are_refused(ref):
    with pytest.raises(TicketInputError, match="external_ref"):
        external_ref_text(ref)


def test_external_ref_keeps_quotes_as_data():
    assert external_ref_text(' alert "7" ') == 'alert "7"'


# --- notes, the touched-ticket rule, repeats -----------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from airflow_provider_connectwise.core.tickets import (  # noqa: E402
    cycle_key,
    group_repeats,
    has_marker,
    markers_of,
    note_body,
    note_marker,
    repeats_text,
    touched_reason,
)

OPEN = 1
any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(ref=st.text(), event=st.text(), other=st.text(), prose=st.text())
def test_a_marker_finds_its_note_and_no_other_events_note(ref, event, other, prose):
    kind = "resolved"
    mine = note_marker(ref, f"{kind}:{event}")
    note = {"text": f"{prose}\n\n{mine}"}
    assert has_marker([note], mine)
    assert markers_of(note)[-1][0] == kind
    if other != event:
        assert not has_marker([note], note_marker(ref, f"{kind}:{other}"))


@given(notes=st.lists(st.dictionaries(st.sampled_from(["id", "text", "noteType", "member"]), any_json)))
def test_note_helpers_never_fail_on_any_json(notes):
    has_marker(notes, note_marker("a", "resolved:first"))
    assert isinstance(cycle_key(notes), str)
    reason = touched_reason({"status": {"id": OPEN}}, notes, open_status_id=OPEN)
    assert reason is None or reason.endswith(("added a note", "logged time on it"))


def test_the_cycle_is_the_latest_recurrence():
    first = {"id": 1, "text": "x\n" + note_marker("a", "resolved:first")}
    again = {"id": 2, "text": "y\n" + note_marker("a", "recurred:2025-01-01")}
    assert cycle_key([first]) == "first"
    assert cycle_key([again, first]) == markers_of(again)[0][1]


@pytest.mark.parametrize(
    ("ticket", "notes", "expected"),
    [
        (
            {"status": {"id": OPEN}},
            [{"noteType": "TicketNote", "text": "opened\n" + note_marker("a", "opened:")}],
            None,
        ),
        ({"status": {"id": 2, "name": "In Progress"}}, [], "it was moved to status 'In Progress'"),
        (
            {"status": {"id": OPEN}},
            [{"noteType": "TicketNote", "text": "on it", "member": {"identifier": "jtech"}}],
            "jtech added a note",
        ),
        (
            {"status": {"id": OPEN}},
            [{"noteType": "TimeEntryNote", "text": "", "member": {"identifier": "amy"}}],
            "amy logged time on it",
        ),
    ],
)
def test_what_makes_a_ticket_touched(ticket, notes, expected):
    assert touched_reason(ticket, notes, open_status_id=OPEN) == expected


def test_note_flags_follow_the_board_setting():
    assert note_body("t", "internal") == {
        "text": "t",
        "detailDescriptionFlag": False,
        "internalAnalysisFlag": True,
        "resolutionFlag": False,
    }
    assert note_body("t", "discussion", resolution=True)["detailDescriptionFlag"] is True
    with pytest.raises(TicketInputError, match="notes: must be one of internal, discussion"):
        note_body("t", "public")


def test_repeats_of_one_item_on_one_device_are_grouped_earliest_first():
    alerts = [
        {"id": "b", "agentid": "d1", "name": "CPU high", "created_date": "2025-01-01T10:05:00Z"},
        {"id": "a", "agentid": "d1", "name": "cpu HIGH", "created_date": "2025-01-01T10:00:00Z"},
        {"id": "c", "agentid": "d2", "name": "CPU high", "created_date": "2025-01-01T10:01:00Z"},
    ]
    groups = {first["id"]: [r["id"] for r in rest] for first, rest in group_repeats(alerts)}
    assert groups == {"a": ["b"], "c": []}
    text, event = repeats_text([{"id": "b", "created_date": "2025-01-01T10:05:00Z", "value": 93}])
    assert text.startswith("The alert repeated 1 more time (2025-01-01T10:05:00Z to 2025-01-01T10:05:00Z)")
    assert repeats_text([]) is None
    assert repeats_text([{"id": "b"}])[1] == event  # the same repeats, the same note


@given(
    alerts=st.lists(
        st.dictionaries(
            st.sampled_from(["id", "agentid", "name", "fact_identifier", "created_date", "value"]), any_json
        ),
        max_size=8,
    )
)
def test_grouping_keeps_every_alert_exactly_once(alerts):
    groups = group_repeats(alerts)
    seen = [id(a) for first, rest in groups for a in [first, *rest]]
    assert sorted(seen) == sorted(id(a) for a in alerts)
    for _, rest in groups:
        repeats_text(rest)


# --- classification and contacts in the catalogue ------------------------------------------------


def classified_catalogue():
    from airflow_provider_connectwise.core.catalogue import Catalogue

    return Catalogue.from_connectwise(
        boards=[{"id": 1, "name": "Monitoring"}],
        board_statuses={1: [{"id": 10, "name": "New"}, {"id": 11, "name": "Done", "closedStatus": True}]},
        board_classification={
            "1": {"types": [{"id": 4, "name": "Alert"}, {"id": 5, "name": "Old", "inactiveFlag": True}]}
        },
        priorities=[{"id": 2, "name": "P1"}],
        contacts=[
            {
                "id": 8,
                "firstName": "Ann",
                "lastName": " Archer ",
                "company": {"id": 3},
                "communicationItems": [
                    {"communicationType": "Email", "value": "ann@acme.example"},
                    {"type": {"name": "Email"}, "value": " ann@home.example "},
                    {"communicationType": "Phone", "value": "555"},
                    "not an item",
                    {"type": "Email", "value": 7},
                ],
            }
        ],
    )


def test_the_catalogue_reads_classification_and_contacts_and_survives_xcom():
    import json

    from airflow_provider_connectwise.core.catalogue import Catalogue

    catalogue = classified_catalogue()
    assert [t.name for t in catalogue.boards[0].types] == ["Alert", "Old"]
    (ann,) = catalogue.contacts
    assert (ann.name, ann.company_id, ann.emails) == (
        "Ann Archer",
        3,
        ("ann@acme.example", "ann@home.example"),
    )
    assert Catalogue.from_dict(json.loads(json.dumps(catalogue.to_dict()))) == catalogue


def test_the_settings_template_lists_the_classification_choices():
    import yaml

    from airflow_provider_connectwise.core.catalogue import render_settings_template

    text = render_settings_template(classified_catalogue())
    assert "# Monitoring: ticket types: Alert (id 4)" in text
    assert "Old (id 5)" not in text  # inactive types are not offered
    assert "# priorities: P1 (id 2)" in text
    # the choices are comments: the document keeps its shape
    assert set(yaml.safe_load(text)["monitoring"]) == {"board", "open_status", "closed_status"}
