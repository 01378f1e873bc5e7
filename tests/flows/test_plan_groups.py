"""Planning group by group (the plan task's memory follows a group, not the fleet) plans exactly
what planning everything at once plans, and reads each group's devices only."""

from __future__ import annotations

import pytest

from airflow_provider_connectwise.core.planning import Scope
from airflow_provider_connectwise.flows.binding_plan import plan_binding, plan_binding_groups
from airflow_provider_connectwise.flows.policy_links import fetch_policy_devices, list_policy_links
from airflow_provider_connectwise.flows.settings import validate_settings
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from tests.flows.conftest import EXAMPLE_SETTINGS

pytestmark = pytest.mark.integration


@pytest.fixture
def fleet(airflow_env):
    sb = airflow_env
    cw, addigy = ConnectWiseHook(requests_per_minute=None), AddigyHook()
    settings = validate_settings(cw, EXAMPLE_SETTINGS)
    policies = [p for p in list_policy_links(addigy, cw, settings) if p["company_id"] is not None]
    devices = [d for p in policies for d in fetch_policy_devices(addigy, settings, p)]
    assert len({p["company_id"] for p in policies}) > 1, "the demo links several companies"
    return sb, cw, settings, policies, devices


def _actions(plan):
    return sorted(
        (a.company_id, a.agentid or "", a.action, a.configuration_id or 0, a.error or "")
        for company_plan in plan.plans
        for a in company_plan.actions
    )


@pytest.mark.parametrize("group_devices", [1, 3, 10_000])
@pytest.mark.parametrize("slots", [1, 4])
def test_groups_plan_what_one_plan_plans(fleet, group_devices, slots):
    _sb, cw, settings, policies, devices = fleet
    scope = Scope(all_policies=True)
    whole = plan_binding(cw, settings, policies, devices, scope=scope, apply_slots=slots)
    grouped = plan_binding(
        cw, settings, policies, devices, scope=scope, apply_slots=slots, group_devices=group_devices
    )
    assert _actions(grouped) == _actions(whole)
    assert [p.company_id for p in grouped.plans] == [p.company_id for p in whole.plans]
    # batches are numbered across the groups as if cut at once, and hold every write once
    assert [b.index for b in grouped.batches] == list(range(len(grouped.batches)))
    firsts = [b.first for b in grouped.batches]
    assert firsts == sorted(firsts) and (not firsts or firsts[0] == 1)
    written = [(a.company_id, a.agentid) for b in grouped.batches for a in b.actions]
    assert sorted(written) == sorted(
        (a.company_id, a.agentid) for p in whole.plans for a in p.write_actions()
    )


def test_each_group_reads_only_its_policies_devices(fleet):
    _sb, cw, settings, policies, devices = fleet
    asked: list[frozenset[str] | None] = []

    def source(policy_ids):
        asked.append(None if policy_ids is None else frozenset(policy_ids))
        return [d for d in devices if policy_ids is None or str(d["policy_id"]) in policy_ids]

    parts = list(plan_binding_groups(cw, settings, policies, source, scope=Scope(), group_devices=1))
    company_of = {str(p["policy_id"]): p["company_id"] for p in policies}
    assert asked[0] is None  # the survey: every device once
    groups = asked[1:]
    assert len(groups) == len(parts) > 1
    for part, policy_ids in zip(parts, groups, strict=True):
        planned = {p.company_id for p in part.plans if p.company_id}
        assert policy_ids and {company_of[p] for p in policy_ids} <= planned


def test_a_device_in_policies_of_two_companies_fails_in_whichever_group(fleet):
    _sb, cw, settings, policies, devices = fleet
    first, second = sorted({p["company_id"] for p in policies})[:2]
    policy_of = {p["company_id"]: p for p in policies}
    device = next(d for d in devices if d["policy_id"] == policy_of[first]["policy_id"])
    twin = {**device, "policy_id": policy_of[second]["policy_id"]}
    plan = plan_binding(cw, settings, policies, [*devices, twin], scope=Scope(), group_devices=1)
    mine = [a for p in plan.plans for a in p.actions if a.agentid == device["agentid"]]
    assert {a.company_id for a in mine} == {first, second}
    assert all(a.action == "fail" and "linked to different companies" in (a.error or "") for a in mine)
