"""The ConnectWise page's model and templates without Airflow's database: records in, pages out."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_connectwise.core.links import MODES, Candidate, Proposal
from airflow_provider_connectwise.flows.link_store import StoredLink
from airflow_provider_connectwise.plugins import model
from airflow_provider_connectwise.plugins.model import BindingRecord, RunRef

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
TEMPLATE = "https://na.myconnectwise.net/v2025_1/ConnectWise.aspx?routeTo=ConfigFV&recid={id}"


def policy(
    policy_id: str, status: str, *, company_id: int | None = 7, failed: int = 0, name: str = ""
) -> dict:
    icon = {"not_linked": "gray", "linked": "blue", "partial": "red"}[status]
    linked = 0 if company_id is None else 2
    return {
        "policy_id": policy_id,
        "name": name or f"Policy {policy_id}",
        "company_id": company_id,
        "company_name": "" if company_id is None else f"Co{company_id}",
        "status": status,
        "icon": icon,
        "devices": linked + failed,
        "states": {"linked": linked, "failed": failed, "unlinked": 0},
        "actions": {},
    }


def result(name: str, policy_id: str, *, state: str = "linked", company_id: int = 7, **extra: Any) -> dict:
    return {
        "agentid": f"agent-{name}",
        "device_name": name,
        "policy_ids": [policy_id],
        "company_id": company_id,
        "action": extra.pop("action", "create" if state == "linked" else "fail"),
        "configuration_id": extra.pop("configuration_id", 100 if state == "linked" else None),
        "state": state,
        "error": extra.pop("error", None if state == "linked" else f"{name} cannot bind"),
        "warnings": extra.pop("warnings", []),
    }


def record(
    dag_id: str,
    minutes: int,
    policies: list[dict],
    results: list[dict] | None = None,
    *,
    conf_policy: str | None = None,
    dry_run: bool = False,
    **extra: Any,
) -> BindingRecord:
    run = RunRef(
        dag_id=dag_id,
        run_id=f"{dag_id}-{minutes}",
        recorded_at=T0 + timedelta(minutes=minutes),
        state="success",
        conf_policy=conf_policy,
    )
    value = {
        "report": {"policies": policies, "totals": {"devices": len(results or [])}, "actions": {}},
        "results": results or [],
        "policy_errors": extra.pop("policy_errors", {}),
        "dry_run": dry_run,
        "configuration_url_template": extra.pop("template", TEMPLATE),
        "policy_links": extra.pop("policy_links", {}),
    }
    return BindingRecord(run, value)


def newest_first(*records: BindingRecord) -> list[BindingRecord]:
    return sorted(records, key=lambda r: r.run.recorded_at, reverse=True)


# --- the overview ------------------------------------------------------------------------------


def test_each_policy_takes_its_latest_record_across_both_dags():
    hourly = record(
        model.BINDING_DAG_ID,
        0,
        [policy("p1", "linked"), policy("p2", "linked"), policy("p3", "not_linked", company_id=None)],
    )
    manual = record(model.SYNC_DAG_ID, 30, [policy("p1", "partial", failed=1)], conf_policy="p1")
    page = model.build_overview(newest_first(hourly, manual))

    by_id = {p.policy_id: p for p in page.policies}
    assert {k: (p.status.icon, p.run.dag_id) for k, p in by_id.items()} == {
        "p1": ("red", model.SYNC_DAG_ID),
        "p2": ("blue", model.BINDING_DAG_ID),
        "p3": ("gray", model.BINDING_DAG_ID),
    }
    assert page.counts == {"partial": 1, "linked": 1, "not_linked": 1}
    assert [r.run.run_id for r in page.recent] == [manual.run.run_id, hourly.run.run_id]


def test_a_newer_full_run_replaces_an_older_one_policy_sync():
    manual = record(model.SYNC_DAG_ID, 0, [policy("p1", "partial", failed=1)], conf_policy="p1")
    hourly = record(model.BINDING_DAG_ID, 60, [policy("p1", "linked")])
    page = model.build_overview(newest_first(hourly, manual))
    assert [(p.policy_id, p.status.value) for p in page.policies] == [("p1", "linked")]


def test_reading_stops_once_a_run_of_every_policy_is_read():
    consumed = []
    older_gone_policy = record(model.BINDING_DAG_ID, 0, [policy("gone", "linked")])
    full = record(model.SYNC_DAG_ID, 10, [policy("p1", "linked")])  # manual sync without a policy: all
    one = record(model.SYNC_DAG_ID, 20, [policy("p2", "partial", failed=2)], conf_policy="p2")

    def stream():
        for r in newest_first(older_gone_policy, full, one):
            consumed.append(r.run.run_id)
            yield r

    page = model.build_overview(stream(), recent=2)
    assert {p.policy_id for p in page.policies} == {"p1", "p2"}  # "gone" left the MDM since
    assert consumed == [one.run.run_id, full.run.run_id]


def test_dry_runs_are_listed_but_never_a_policys_state():
    real = record(model.BINDING_DAG_ID, 0, [policy("p1", "linked")])
    dry = record(model.SYNC_DAG_ID, 5, [policy("p1", "partial", failed=4)], dry_run=True)
    page = model.build_overview(newest_first(real, dry))
    assert page.policies[0].status.value == "linked"
    assert [(r.run.run_id, r.dry_run) for r in page.recent] == [
        (dry.run.run_id, True),
        (real.run.run_id, False),
    ]


@pytest.mark.parametrize(
    "value",
    [
        "s3://xcom-bucket/connectwise_binding.json",  # a custom XCom backend's reference
        {"report": "broken"},
        {"report": {"policies": "not a list"}},
        {"results": []},
        None,
    ],
)
def test_records_not_of_the_records_shape_are_skipped_and_counted(value):
    good = record(model.BINDING_DAG_ID, 0, [policy("p1", "linked")])
    bad = BindingRecord(RunRef(model.BINDING_DAG_ID, "odd", T0 + timedelta(hours=1)), value)
    page = model.build_overview([bad, good])
    assert page.skipped == 1
    assert [p.policy_id for p in page.policies] == ["p1"]


def test_odd_counts_read_as_zero():
    odd = record(model.BINDING_DAG_ID, 0, [policy("p1", "linked")])
    odd.value["report"]["totals"] = ["not", "a", "mapping"]
    odd.value["report"]["policies"][0]["states"] = {"linked": "many", "failed": True}
    page = model.build_overview([odd])
    assert page.recent[0].totals == {"devices": 0, "linked": 0, "failed": 0, "unlinked": 0}
    assert page.policies[0].states == {"linked": 0, "failed": 0, "unlinked": 0}


def test_policy_lines_of_an_unknown_shape_or_status_are_left_out():
    odd = record(
        model.BINDING_DAG_ID,
        0,
        [policy("p1", "linked"), {"policy_id": "p2", "status": "exploded"}, "nonsense", {"status": "linked"}],
    )
    assert [p.policy_id for p in model.build_overview([odd]).policies] == ["p1"]


def test_statuses_are_the_seeds_icons_with_words():
    assert {k: (s.icon, s.label) for k, s in model.STATUSES.items()} == {
        "not_linked": ("gray", "Not linked"),
        "linked": ("blue", "Linked"),
        "partial": ("red", "Partial"),
    }
    assert "not linked to any ConnectWise company" in model.STATUSES["not_linked"].description


# --- the policy page ---------------------------------------------------------------------------


def test_policy_page_shows_the_policys_devices_of_its_latest_record_failed_first():
    results = [
        result("zeta", "p1"),
        result("alpha", "p1", state="failed", error="macAddress: no valid MAC address in 'not-a-mac'"),
        result("other-policy", "p2"),
        result("other-company", "p1", company_id=99),
        result("left", "p1", action="deactivate", state="unlinked"),
    ]
    latest = record(
        model.BINDING_DAG_ID, 10, [policy("p1", "partial", failed=1), policy("p2", "linked")], results
    )
    older = record(model.BINDING_DAG_ID, 0, [policy("p1", "linked")], [result("zeta", "p1")])
    page = model.build_policy_page(newest_first(latest, older), "p1")

    assert page is not None
    assert page.policy.run == latest.run
    assert [d.device_name for d in page.devices] == ["alpha", "zeta"]
    failed, linked = page.devices
    assert failed.error == "macAddress: no valid MAC address in 'not-a-mac'"
    assert failed.configuration_url is None
    assert linked.configuration_url == TEMPLATE.replace("{id}", "100")
    assert [h.status.value for h in page.history] == ["linked"]
    assert page.policy.pending == 1


def test_policy_page_of_an_unknown_policy_is_none():
    assert (
        model.build_policy_page([record(model.BINDING_DAG_ID, 0, [policy("p1", "linked")])], "nope") is None
    )


def test_policy_page_falls_back_to_a_dry_run_and_says_so():
    dry = record(
        model.SYNC_DAG_ID,
        0,
        [policy("p1", "partial", failed=1)],
        [result("a", "p1", state="failed")],
        dry_run=True,
    )
    page = model.build_policy_page([dry], "p1")
    assert page is not None and page.dry_run_only
    assert [d.device_name for d in page.devices] == ["a"]


def test_a_policy_whose_company_is_gone_carries_the_error():
    errors = {"p1": "policy 'Retired' is linked to ConnectWise company id 254, which is deleted"}
    r = record(model.BINDING_DAG_ID, 0, [policy("p1", "partial", failed=2)], policy_errors=errors)
    assert model.build_overview([r]).policies[0].error == errors["p1"]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (TEMPLATE, TEMPLATE.replace("{id}", "42")),
        ("javascript:alert(1)//{id}", None),
        ("//evil.example/{id}", None),
        ("https://na.myconnectwise.net/no-placeholder", None),
        (None, None),
    ],
)
def test_configuration_links_are_only_http_urls_from_the_template(template, expected):
    assert model.configuration_url(template, 42) == expected


def test_binding_table_filters_by_state_and_caps_the_lines():
    rows = model.build_run_page(
        record(
            model.BINDING_DAG_ID,
            0,
            [policy("p1", "partial", failed=3)],
            [result(f"d{i}", "p1", state="failed" if i < 3 else "linked") for i in range(10)],
        )
    ).devices
    table = model.binding_table(rows, "failed", limit=2)
    assert (len(table.rows), table.total, table.all_count) == (2, 3, 10)
    assert table.counts == {"linked": 7, "failed": 3, "unlinked": 0}
    assert model.binding_table(rows, "bogus").state is None


def test_run_page_shows_every_result_with_deactivations():
    r = record(
        model.BINDING_DAG_ID,
        0,
        [policy("p1", "linked")],
        [result("a", "p1"), result("gone", "p1", action="deactivate", state="unlinked")],
    )
    page = model.build_run_page(r)
    assert [d.action_label for d in page.devices] == ["create", "deactivate"]


# --- rendering: untrusted text stays text ------------------------------------------------------

HOSTILE = '<script>alert("x")</script> O\'Brien "Macs"'


#: what the routes pass besides the page itself
PAGE_DEFAULTS: dict[str, Any] = {
    "hidden_dags": [],
    "saved": None,
    "stored": None,
    "stored_error": None,
    "search": {"q": "", "status": "Active", "type": "", "done": False},
    "companies": [],
    "search_error": None,
    "can_retry_here": True,
}


def render(template: str, **context: Any) -> str:
    from airflow_provider_connectwise.plugins.app import template_environment
    from airflow_provider_connectwise.plugins.urls import Links

    return (
        template_environment()
        .get_template(template)
        .render(
            links=Links("/connectwise"),
            statuses=model.STATUSES,
            status_order=model.STATUS_ORDER,
            user_name=HOSTILE,
            can_retry=True,
            can_link=True,
            modes=MODES,
            form_token="tok",
            sync_dag_id=model.SYNC_DAG_ID,
            **{**PAGE_DEFAULTS, **context},
        )
    )


def hostile_record() -> BindingRecord:
    results = [
        result(
            HOSTILE, "p<1>", state="failed", error=f"device {HOSTILE!r}: macAddress:\n  no valid MAC address"
        ),
        result("ok", "p<1>", warnings=[HOSTILE]),
    ]
    return record(
        model.SYNC_DAG_ID,
        0,
        [policy("p<1>", "partial", failed=1, name=HOSTILE), policy("p2", "not_linked", company_id=None)],
        results,
        policy_errors={"p<1>": HOSTILE},
    )


def assert_escaped(html: str) -> None:
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; O&#39;Brien &#34;Macs&#34;" in html


def test_overview_escapes_names_errors_and_the_user():
    html = render(
        "overview.html", page=model.build_overview([hostile_record()]), active=[], dag_ids=["a", "b"]
    )
    assert_escaped(html)
    # the policy id is quoted in the URL, escaped in the form
    assert 'href="/connectwise/policies/p%3C1%3E"' in html
    assert 'name="policy_id" value="p&lt;1&gt;"' in html
    # three states in the legend, each an icon and a word
    assert re.findall(r'data-icon="(\w+)"', html)[:3] == ["red", "blue", "gray"]


def test_policy_page_shows_the_whole_error_behind_view():
    page = model.build_policy_page([hostile_record()], "p<1>")
    table = model.binding_table(page.devices)
    html = render("policy.html", page=page, table=table, active=[], paused=False)
    assert_escaped(html)
    details = re.search(
        r'<details class="cw-details">\s*<summary>View.*?</summary>\s*<pre class="cw-error">(.*?)</pre>',
        html,
        re.S,
    )
    assert details is not None
    assert "macAddress:\n  no valid MAC address" in details.group(1)


def test_run_page_escapes_warnings_too():
    r = hostile_record()
    page = model.build_run_page(r)
    html = render(
        "run.html",
        run=r.run,
        page=page,
        table=model.binding_table(page.devices),
        unreadable=False,
        started=False,
        paused=False,
    )
    assert_escaped(html)
    assert html.count("&lt;script&gt;") >= 4


@pytest.mark.parametrize(
    ("root_path", "page", "airflow"),
    [
        ("/connectwise", "/connectwise/", "/dags/d/runs/manual__2026-01-05T09%3A00%3A00%2B00%3A00"),
        (
            "/airflow/connectwise",
            "/airflow/connectwise/",
            "/airflow/dags/d/runs/manual__2026-01-05T09%3A00%3A00%2B00%3A00",
        ),
    ],
)
def test_links_follow_the_api_base_url(root_path, page, airflow):
    from airflow_provider_connectwise.plugins.urls import Links

    links = Links(root_path)
    run = RunRef("d", "manual__2026-01-05T09:00:00+00:00")
    assert links.home() == page
    assert links.airflow_run(run) == airflow
    assert links.run(run) == f"{page}runs/d/manual__2026-01-05T09%3A00%3A00%2B00%3A00"
    assert links.policy("a/b c") == f"{page}policies/a%2Fb%20c"


# --- links: source, site, mode, a gray policy's devices, the picker, Auto-map --------------------


def test_policy_rows_carry_the_link_and_a_gray_policys_device_count():
    links = {
        "p1": {"link_source": "airflow", "mode": "paused", "site_id": 31, "site_name": "Main"},
        "p2": {"link_source": "mdm"},
        "p3": {"device_count": 12},
        "p4": {"link_source": "<script>", "mode": "sideways", "site_id": "x", "device_count": True},
    }
    r = record(
        model.BINDING_DAG_ID,
        0,
        [
            policy("p1", "linked"),
            policy("p2", "linked"),
            policy("p3", "not_linked", company_id=None),
            policy("p4", "not_linked", company_id=None),
        ],
        policy_links=links,
    )
    rows = {p.policy_id: p for p in model.build_overview([r]).policies}
    assert (rows["p1"].link_source, rows["p1"].mode, rows["p1"].site_id, rows["p1"].site_name) == (
        "airflow",
        "paused",
        31,
        "Main",
    )
    assert rows["p1"].mode_label == "paused" and rows["p1"].link_source_label == "linked in Airflow"
    assert (rows["p2"].link_source, rows["p2"].mode, rows["p2"].mode_label) == ("mdm", "all", "")
    assert rows["p3"].devices == 12  # not 0: its policy_links task counted them
    # untrusted values of the wrong shape are dropped, never shown
    assert (rows["p4"].link_source, rows["p4"].mode, rows["p4"].site_id, rows["p4"].devices) == (
        None,
        "all",
        None,
        0,
    )
    html = render("overview.html", page=model.build_overview([r]), active=[], dag_ids=["a"])
    assert 'data-mode="paused"' in html and "linked in Airflow" in html and "site Main" in html
    assert "Auto-map by name" in html


def test_the_picker_shows_hostile_company_names_as_text():
    page = model.build_policy_page([hostile_record()], "p2")
    html = render(
        "policy.html",
        page=page,
        table=model.binding_table(page.devices),
        active=[],
        paused=False,
        search={"q": HOSTILE, "status": "", "type": HOSTILE, "done": True},
        companies=[{"id": 5, "identifier": HOSTILE, "name": HOSTILE, "status": "Active", "types": []}],
        stored=StoredLink("p2", 5, linked_by=HOSTILE),
    )
    assert_escaped(html)
    assert html.count("&lt;script&gt;alert") >= 4  # the search box, the type box, the company twice
    assert 'action="/connectwise/policies/p2/link"' in html and 'name="token" value="tok"' in html
    assert 'href="/connectwise/policies/p2/unlink"' in html  # Unlink only where a stored link exists
    assert 'src="/connectwise/static/link.js"' in html


def test_a_policy_linked_by_the_settings_has_no_picker():
    r = record(
        model.BINDING_DAG_ID, 0, [policy("p1", "linked")], policy_links={"p1": {"link_source": "settings"}}
    )
    page = model.build_policy_page([r], "p1")
    html = render("policy.html", page=page, table=model.binding_table(page.devices), active=[], paused=False)
    assert '/link"' not in html and "change the link there" in html


def test_automap_page_lists_confident_then_ambiguous_escaped():
    confident = Proposal("p<1>", HOSTILE, (Candidate(5, "Acme", HOSTILE),), confident=True)
    ambiguous = Proposal(
        "p2", "Initech", (Candidate(6, "Initech", "Initech LLC"), Candidate(7, "InitechEU", "Initech Ltd"))
    )
    html = render("automap.html", proposals=[confident, ambiguous], unlinked=3)
    assert_escaped(html)
    assert 'name="choice" value="5:p&lt;1&gt;" checked' in html
    assert re.findall(r'<option value="(\d+:p2)"', html) == ["6:p2", "7:p2"]
    assert html.index("Confident matches") < html.index("Choose a company")
