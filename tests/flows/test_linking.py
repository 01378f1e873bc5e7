"""Linking policies to companies: company search and sites, the stored links and their precedence,
the manual sync's ``company`` saved so the next scheduled run keeps it (issue 13, item 4)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_connectwise.flows.link_store import VARIABLE_KEY, StoredLink, parse_links
from tests.flows.conftest import EXAMPLE_SETTINGS, run_dag, settings_for, task_states, xcom

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def no_stored_links(airflow_db):
    """Every test starts and ends without links made in Airflow (the metadata DB is shared)."""
    from airflow.models.variable import Variable

    Variable.delete(VARIABLE_KEY)
    yield
    Variable.delete(VARIABLE_KEY)


@pytest.fixture
def hooks(airflow_env):
    from airflow_provider_connectwise.hooks.addigy import AddigyHook
    from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook

    return AddigyHook(), ConnectWiseHook()


# --- company search and sites (the hook against the sandbox, requests checked by the contract) ----


def test_company_search_active_only_by_name_or_identifier(airflow_env, hooks):
    _, cw = hooks
    sb = airflow_env
    sb.state.connectwise.insert(
        "companies",
        {"identifier": "AcmeOld", "name": "Acme Old Office", "status": {"id": 2, "name": "Inactive"},
         "types": [{"id": 1, "name": "Client"}], "deletedFlag": False},
    )  # fmt: skip
    assert [c["identifier"] for c in cw.search_companies("acme")] == ["AcmeCorp"]
    # any status, by name: "Acme Corporation" before "Acme Old Office"
    assert [c["identifier"] for c in cw.search_companies("acme", status=None)] == ["AcmeCorp", "AcmeOld"]
    assert [c["identifier"] for c in cw.search_companies("", company_type="Owner")] == ["DemoMSP"]
    assert "OldCo" not in [c["identifier"] for c in cw.search_companies("", status=None)]  # deleted
    assert len(cw.search_companies("", limit=2)) == 2
    # a quote cannot be put in a condition: matched here over the safe query, never sent raw
    assert cw.search_companies('Acme "Corp') == []
    sent = [e.get("query", "") for e in sb.request_log() if "companies" in str(e.get("path", ""))]
    assert sent and not any('"Corp' in json.dumps(q) for q in sent)


def test_company_sites(airflow_env, hooks):
    from airflow_provider_connectwise.exceptions import ConnectWiseNotFoundError

    _, cw = hooks
    sites = airflow_env.seed.notes["sites"]
    acme = airflow_env.seed.companies["AcmeCorp"]
    assert {s["id"]: s["name"] for s in cw.list_company_sites(acme)} == {
        sites["AcmeCorp/Main"]: "Main",
        sites["AcmeCorp/Branch Office"]: "Branch Office",
    }
    with pytest.raises(ConnectWiseNotFoundError, match="Company with id 99999 not found"):
        cw.list_company_sites(99999)


# --- list_policy_links: precedence, site, mode, device count -------------------------------------


def _by_name(policies):
    return {p["name"]: p for p in policies}


def test_precedence_settings_then_airflow_then_mdm(airflow_env, hooks):
    from airflow_provider_connectwise.flows.policy_links import list_policy_links

    addigy, cw = hooks
    seed = airflow_env.seed
    p = seed.policies
    initech, globex = seed.companies["Initech"], seed.companies["Globex"]
    settings = settings_for(
        {
            **EXAMPLE_SETTINGS,
            "policy_links": [{"policy": p["Globex Fleet"], "company": "Globex", "mode": "tickets"}],
        }
    )
    stored = {
        # the settings win for Globex Fleet; the stored link wins over the MDM's for Acme; Lab is new
        p["Globex Fleet"]: StoredLink(p["Globex Fleet"], initech),
        p["Acme Workstations"]: StoredLink(p["Acme Workstations"], initech, mode="paused"),
        p["Lab Macs"]: StoredLink(p["Lab Macs"], initech, site_id=seed.notes["sites"]["Initech/Main"]),
    }
    policies = _by_name(list_policy_links(addigy, cw, settings, stored=(stored, {})))
    assert {n: (q["company_id"], q["link_source"], q["mode"]) for n, q in policies.items()} == {
        "Globex Fleet": (globex, "settings", "tickets"),
        "Acme Workstations": (initech, "airflow", "paused"),
        "Lab Macs": (initech, "airflow", "all"),
    }
    assert policies["Lab Macs"]["site_name"] == "Main" and policies["Lab Macs"]["error"] is None

    mdm_only = _by_name(list_policy_links(addigy, cw, settings_for(), stored=({}, {}), count_unlinked=True))
    assert mdm_only["Acme Workstations"]["link_source"] == "mdm"
    assert mdm_only["Lab Macs"]["link_source"] is None and mdm_only["Lab Macs"]["site_id"] is None
    lab_devices = len(addigy.list_policy_devices(p["Lab Macs"], []))
    assert mdm_only["Lab Macs"]["device_count"] == lab_devices > 0  # a gray policy's real device count
    assert "device_count" not in mdm_only["Acme Workstations"]


def test_a_bad_site_or_stored_entry_fails_only_its_policy(airflow_env, hooks):
    from airflow_provider_connectwise.flows.policy_links import list_policy_links

    addigy, cw = hooks
    seed = airflow_env.seed
    p = seed.policies
    links, errors = parse_links(
        json.dumps(
            {
                p["Lab Macs"]: {
                    "company_id": seed.companies["Initech"],
                    "site_id": seed.notes["sites"]["AcmeCorp/Main"],
                },
                p["Acme Workstations"]: {"company_id": "twelve"},
            }
        )
    )
    assert "company_id must be a positive integer id, got 'twelve'" in errors[p["Acme Workstations"]]
    policies = _by_name(list_policy_links(addigy, cw, settings_for(), stored=(links, errors)))
    assert "is not a site of ConnectWise company Initech" in policies["Lab Macs"]["error"]
    assert "choose one of its sites" in policies["Lab Macs"]["error"]
    # the bad entry is reported on its policy, which keeps its MDM link (so nothing is swept)
    acme = policies["Acme Workstations"]
    assert acme["link_source"] == "mdm" and VARIABLE_KEY in acme["error"] and "company_id" in acme["error"]
    assert policies["Globex Fleet"]["error"] is None


# --- the manual sync's company is saved: the next hourly run keeps it (issue 13, item 4) ---------


def _stored_links():
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.query(Variable).filter(Variable.key == VARIABLE_KEY).one_or_none()
        return parse_links(row.val if row else None)[0]


def test_manual_sync_company_is_saved_and_the_next_run_keeps_it(airflow_env):
    sb = airflow_env
    lab, initech = sb.seed.policies["Lab Macs"], sb.seed.companies["Initech"]

    dry = run_dag("connectwise_manual_sync", {"policy": lab, "company": "Initech", "dry_run": True})
    assert task_states(dry)["sync_devices"] == ["success"]
    assert lab not in _stored_links()  # a dry run saves nothing

    # the policy may be named (trimmed, any case): the link is saved under its id
    run = run_dag("connectwise_manual_sync", {"policy": " lab macs ", "company": "Initech", "dry_run": False})
    assert task_states(run)["sync_devices"] == ["success"]
    link = _stored_links()[lab]
    assert (link.company_id, link.mode) == (initech, "all")
    assert link.linked_by.startswith("connectwise_manual_sync run ") and link.linked_at.endswith("Z")
    created = [c for c in sb.state.connectwise.configurations_of("Initech") if c.get("deviceIdentifier")]
    assert created and all(c["activeFlag"] for c in created)

    hourly = run_dag("connectwise_device_binding")
    assert task_states(hourly)["link_status"] == ["failed"]  # the demo's one bad MAC (Globex), not Lab
    after = {c["id"]: c for c in sb.state.connectwise.configurations_of("Initech")}
    assert all(after[c["id"]]["activeFlag"] for c in created)  # nothing deactivated
    record = xcom(hourly, "link_status", key="connectwise_binding")
    assert record["policy_links"][lab]["link_source"] == "airflow"
    lab_row = next(r for r in record["report"]["policies"] if r["policy_id"] == lab)
    assert lab_row["status"] == "linked" and lab_row["company_id"] == initech


def test_manual_sync_refuses_a_company_the_settings_contradict(airflow_env, monkeypatch):
    from tests.flows.conftest import use_settings

    sb = airflow_env
    lab = sb.seed.policies["Lab Macs"]
    use_settings(monkeypatch, {**EXAMPLE_SETTINGS, "policy_links": [{"policy": lab, "company": "Globex"}]})
    run = run_dag("connectwise_manual_sync", {"policy": lab, "company": "Initech", "dry_run": False})
    assert task_states(run)["sync_devices"] == ["failed"]
    assert lab not in _stored_links()
