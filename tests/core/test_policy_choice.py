"""A manual sync names its policy by id or name; a dry run says what it would do."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_connectwise.core.binding_report import (
    PolicyNotFound,
    choose_policy,
    planned_counts,
    render_dry_run,
)
from airflow_provider_connectwise.core.planning import DeviceAction
from airflow_provider_connectwise.core.settings import name_key

POLICIES = [
    {"policy_id": "pol-1", "name": "Acme Workstations"},
    {"policy_id": "pol-2", "name": "Lab Macs"},
    {"policy_id": "pol-3", "name": "Shared"},
    {"policy_id": "pol-4", "name": "shared "},
]


@pytest.mark.parametrize(
    ("wanted", "policy_id"),
    [("pol-2", "pol-2"), ("Lab Macs", "pol-2"), ("  lab MACS ", "pol-2"), (" pol-1", "pol-1")],
)
def test_an_id_or_a_name_trimmed_in_any_case(wanted, policy_id):
    assert choose_policy(POLICIES, wanted)["policy_id"] == policy_id


def test_an_unknown_policy_lists_the_choices():
    with pytest.raises(PolicyNotFound) as caught:
        choose_policy(POLICIES, "Lab Mac")
    assert str(caught.value) == (
        "policy 'Lab Mac' does not exist in the MDM; policies: Acme Workstations (pol-1), "
        "Lab Macs (pol-2), Shared (pol-3), shared (pol-4)"
    )


def test_a_name_two_policies_share_must_be_an_id():
    with pytest.raises(PolicyNotFound, match=r"2 policies are named 'SHARED': give its id \(pol-3, pol-4\)"):
        choose_policy(POLICIES, "SHARED")
    assert choose_policy(POLICIES, "pol-4")["name"] == "shared "


@given(st.text(max_size=30))
def test_any_text_picks_one_policy_or_fails_with_the_choices(wanted):
    by_id = wanted.strip() in {p["policy_id"] for p in POLICIES}
    same_name = [p for p in POLICIES if name_key(p["name"]) == name_key(wanted)]
    if by_id or len(same_name) == 1:
        assert choose_policy(POLICIES, wanted) in POLICIES
    else:
        with pytest.raises(PolicyNotFound, match=r"give its id|policies: Acme Workstations \(pol-1\)"):
            choose_policy(POLICIES, wanted)


def _action(agentid, action, policy="pol-2", company=7, changes=None):
    return DeviceAction(
        agentid=agentid,
        device_name=agentid,
        policy_ids=(policy,),
        company_id=company,
        action=action,
        changes=changes or ({} if action in ("create", "none", "fail") else {"name": "x"}),
    )


def test_a_dry_run_says_what_it_would_do_not_a_link_status():
    actions = [
        _action("a", "create"),
        _action("b", "create"),
        _action("c", "update"),
        _action("d", "none"),
        _action("e", "fail"),
        _action("f", "deactivate", policy="gone"),
        _action("g", "create", policy="pol-1", company=8),  # another company's: not counted here
    ]
    policies = [
        {"policy_id": "pol-2", "name": "Lab Macs", "company_id": 7, "company_name": "Initech"},
        {"policy_id": "pol-9", "name": "Spare", "company_id": None},
    ]
    assert planned_counts(actions, policies)["pol-2"] == {
        "create": 2,
        "update": 1,
        "deactivate": 1,
        "none": 1,
        "fail": 1,
    }
    assert render_dry_run(actions, policies) == [
        "policy Lab Macs (company Initech): DRY RUN, would create 2, update 1, deactivate 1, leave 1 as "
        "they are; 1 cannot be linked (nothing was written)",
        "policy Spare: DRY RUN, not linked to a company: nothing to do",
    ]
