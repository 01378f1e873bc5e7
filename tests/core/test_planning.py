from __future__ import annotations

import json

import pytest

from airflow_provider_connectwise.core.apply import result_without_write
from airflow_provider_connectwise.core.binding_report import LinkStatus, link_status
from airflow_provider_connectwise.core.planning import (
    Batch,
    CompanyPlan,
    DeviceAction,
    Scope,
    index_configurations,
    is_owned,
    plan_company,
    plan_orphans,
    render_plan,
    replan_action,
)

from .helpers import (
    ACME,
    ACTIVE,
    BETA,
    INACTIVE,
    ON_HOLD,
    TEMPLATE,
    configuration,
    device,
    load_json,
    resolved,
)

A1 = "agent-0001"
A2 = "agent-0002"
A3 = "agent-0003"


def plan(devices, configurations=(), settings=None, **kwargs) -> CompanyPlan:
    return plan_company(
        ACME, devices, list(configurations), settings or resolved(), company_name="AcmeCorp", **kwargs
    )


def by_agent(plan_: CompanyPlan) -> dict[str | None, DeviceAction]:
    return {action.agentid: action for action in plan_.actions}


def in_sync(agentid: str, config_id: int, **facts) -> dict:
    """A configuration already holding exactly what ``device(agentid, **facts)`` maps to."""
    action = plan([device(agentid, **facts)]).actions[0]
    fields = {k: v for k, v in action.desired.items() if k not in ("status", "type", "company")}
    return configuration(config_id, agentid, **fields)


class TestCreate:
    def test_body_is_the_full_desired_state(self):
        action = plan([device(A1, "Ann's Mac", serial="SER1", os_platform="macOS")]).actions[0]
        assert action.action == "create"
        assert action.configuration_id is None
        assert action.desired == {
            "name": "Ann's Mac",
            "deviceIdentifier": A1,
            "serialNumber": "SER1",
            "osType": "macOS",
            "managementLink": f"https://app.addigy.com/devices/{A1}",
            "status": {"id": ACTIVE},
            "type": {"id": 10},
            "company": {"id": ACME},
        }
        assert (action.policy_ids, action.company_id, action.device_name) == (("pol-1",), ACME, "Ann's Mac")

    def test_type_rules_choose_the_type(self):
        settings = resolved(
            configuration_types={
                "default": "Managed Workstation",
                "conditional": [
                    {"type": "Managed Server", "fact": "hardware_model", "op": "prefix", "value": "macmini"}
                ],
            }
        )
        actions = by_agent(
            plan(
                [device(A1, hardware_model="Macmini9,1"), device(A2, hardware_model="MacBookPro16,1")],
                settings=settings,
            )
        )
        assert actions[A1].desired["type"] == {"id": 11}
        assert actions[A2].desired["type"] == {"id": 10}

    def test_sample_devices(self):
        actions = plan(load_json("devices.json")).actions
        assert [a.action for a in actions] == ["create", "create", "create"]
        assert actions[2].device_name == "FVFXC2ABHV2H"
        assert any("fact not collected yet" in w for w in actions[2].warnings)


class TestUpdate:
    def test_none_when_already_right(self):
        facts = {"serial": "SER1", "os_platform": "macOS", "local_ip": "10.0.0.1"}
        action = plan([device(A1, **facts)], [in_sync(A1, 7, **facts)]).actions[0]
        assert (action.action, action.configuration_id, action.changes) == ("none", 7, {})

    def test_only_differing_fields_are_changed(self):
        existing = in_sync(A1, 7, serial="SER1", local_ip="10.0.0.1", system_version="macOS 14.1")
        action = plan(
            [device(A1, serial="SER1", local_ip="10.0.0.2", system_version="macOS 14.2")], [existing]
        ).actions[0]
        assert action.action == "update"
        assert action.changes == {"ipAddress": "10.0.0.2", "osInfo": "macOS 14.2"}

    def test_names_compare_case_sensitively_and_trimmed(self):
        existing = in_sync(A1, 7, name="macbook")
        assert plan([device(A1, "MacBook")], [existing]).actions[0].changes == {"name": "MacBook"}
        existing["name"] = "  MacBook  "
        assert plan([device(A1, "MacBook")], [existing]).actions[0].action == "none"

    def test_null_or_missing_in_connectwise_reads_as_empty(self):
        existing = in_sync(A1, 7)
        existing["serialNumber"] = None
        assert plan([device(A1, serial="SER1")], [existing]).actions[0].changes == {"serialNumber": "SER1"}
        del existing["serialNumber"]
        assert plan([device(A1, serial="SER1")], [existing]).actions[0].changes == {"serialNumber": "SER1"}

    def test_a_missing_fact_never_clears_a_field(self):
        existing = in_sync(A1, 7, serial="SER1", current_user="ann")
        action = plan([device(A1)], [existing]).actions[0]  # no serial, no current user reported now
        assert action.action == "none"

    def test_status_becomes_active(self):
        existing = in_sync(A1, 7)
        existing["status"] = {"id": INACTIVE}
        assert plan([device(A1)], [existing]).actions[0].changes == {"status": {"id": ACTIVE}}

    def test_protected_fields_are_set_on_create_but_never_overwritten(self):
        settings = resolved(protected_fields=["name", "lastLoginName"])
        existing = in_sync(A1, 7, name="Old name", current_user="old")
        actions = by_agent(
            plan(
                [device(A1, "New name", current_user="new", serial="S1"), device(A2, "Fresh")],
                [existing],
                settings,
            )
        )
        assert actions[A1].changes == {"serialNumber": "S1"}
        assert actions[A2].desired["name"] == "Fresh"

    def test_type_and_company_are_never_changed(self):
        existing = in_sync(A1, 7)
        existing["type"] = {"id": 14}
        assert plan([device(A1)], [existing]).actions[0].action == "none"

    def test_fields_outside_the_mapping_are_left_alone(self):
        existing = in_sync(A1, 7)
        existing["notes"] = "handwritten"
        existing["tagNumber"] = "T-1"
        action = plan([device(A1)], [existing]).actions[0]
        assert action.action == "none"

    def test_matching_is_case_insensitive_and_the_case_is_synced(self):
        existing = in_sync(A1, 7)
        existing["deviceIdentifier"] = A1.upper()
        existing["managementLink"] = f"https://app.addigy.com/devices/{A1.upper()}"
        action = plan([device(A1)], [existing]).actions[0]
        assert action.configuration_id == 7
        assert action.changes == {
            "deviceIdentifier": A1,
            "managementLink": f"https://app.addigy.com/devices/{A1}",
        }

    def test_matched_configuration_with_a_foreign_link_is_taken_over(self):
        existing = in_sync(A1, 7)
        existing["managementLink"] = "https://rmm.example/device/1"
        action = plan([device(A1)], [existing]).actions[0]
        assert action.changes == {"managementLink": f"https://app.addigy.com/devices/{A1}"}
        assert any("had management link https://rmm.example/device/1" in w for w in action.warnings)


class TestSeveralMatches:
    def test_prefers_ours_then_active_then_lowest_id_and_touches_no_other(self):
        configs = [
            configuration(5, A1, owned=False, status=ACTIVE),
            configuration(6, A1, owned=True, status=INACTIVE),
            configuration(9, A1, owned=True, status=ACTIVE),
            configuration(8, A1, owned=True, status=ACTIVE),
        ]
        result = plan([device(A1)], configs)
        assert [a.configuration_id for a in result.actions] == [8]
        assert "configurations 9, 6, 5 also carry this agent id; left untouched" in result.actions[0].warnings

    def test_active_wins_over_lower_id_when_neither_is_ours(self):
        configs = [
            configuration(5, A1, owned=False, status=INACTIVE),
            configuration(6, A1, owned=False, status=ACTIVE),
        ]
        assert plan([device(A1)], configs).actions[0].configuration_id == 6


class TestAdoption:
    def test_adopts_an_unidentified_configuration_with_the_same_serial(self):
        historical = configuration(
            40, None, owned=False, serialNumber=" c02abc123 ", name="Old Mac", status=ON_HOLD
        )
        action = plan([device(A1, "Mac", serial="C02ABC123")], [historical]).actions[0]
        assert (action.action, action.configuration_id) == ("update", 40)
        assert action.changes == {
            "name": "Mac",
            "deviceIdentifier": A1,
            "serialNumber": "C02ABC123",
            "managementLink": f"https://app.addigy.com/devices/{A1}",
            "status": {"id": ACTIVE},
        }
        assert "adopting configuration 40 (same serial number, no device identifier)" in action.warnings

    def test_several_candidates_adopt_the_single_active_one(self):
        configs = [
            configuration(40, None, serialNumber="C02ABC123", status=INACTIVE),
            configuration(41, None, serialNumber="C02ABC123", status=ACTIVE),
        ]
        assert plan([device(A1, serial="C02ABC123")], configs).actions[0].configuration_id == 41

    def test_ambiguous_candidates_are_not_adopted(self):
        configs = [
            configuration(40, None, serialNumber="C02ABC123", status=ACTIVE),
            configuration(41, None, serialNumber="C02ABC123", status=ACTIVE),
        ]
        action = plan([device(A1, serial="C02ABC123")], configs).actions[0]
        assert action.action == "create"
        assert any("configurations 40, 41 have serial number 'C02ABC123'" in w for w in action.warnings)

    def test_configurations_with_an_identifier_are_never_adopted(self):
        other = configuration(40, "someone-else", owned=False, serialNumber="C02ABC123")
        result = plan([device(A1, serial="C02ABC123")], [other])
        assert [(a.action, a.configuration_id) for a in result.actions] == [("create", None)]

    def test_switched_off(self):
        historical = configuration(40, None, serialNumber="C02ABC123")
        assert (
            plan([device(A1, serial="C02ABC123")], [historical], resolved(adopt_by_serial=False))
            .actions[0]
            .action
            == "create"
        )

    @pytest.mark.parametrize("serial", ["Not Available", "0000000000", "To be filled by O.E.M."])
    def test_placeholder_serials_adopt_nothing(self, serial):
        historical = configuration(40, None, serialNumber=serial)
        action = plan([device(A1, serial=serial)], [historical]).actions[0]
        assert action.action == "create"
        assert any("looks like a placeholder" in w for w in action.warnings)

    def test_a_serial_on_several_devices_adopts_nothing(self):
        historical = configuration(40, None, serialNumber="C02ABC123")
        result = plan([device(A1, serial="C02ABC123"), device(A2, serial="C02ABC123")], [historical])
        assert [a.action for a in result.actions] == ["create", "create"]

    def test_one_configuration_is_adopted_once(self):
        historical = configuration(40, None, serialNumber="C02ABC123", status=ACTIVE)
        another = configuration(41, None, serialNumber="OTHER999", status=ACTIVE)
        result = plan([device(A1, serial="C02ABC123"), device(A2, serial="OTHER999")], [historical, another])
        assert sorted(a.configuration_id for a in result.actions) == [40, 41]


class TestDeactivation:
    def test_our_configuration_of_a_device_that_left_is_deactivated(self):
        result = plan([device(A1)], [in_sync(A1, 7), configuration(8, A2, name="Gone Mac")])
        gone = by_agent(result)[A2]
        assert (gone.action, gone.configuration_id, gone.device_name) == ("deactivate", 8, "Gone Mac")
        assert gone.changes == {"status": {"id": INACTIVE}}
        assert gone.policy_ids == ()

    def test_already_inactive_is_left_alone(self):
        result = plan([], [configuration(8, A2, status=INACTIVE)])
        assert result.actions == ()

    def test_a_foreign_configuration_is_never_in_any_action(self):
        # Same name and serial number as a device, but another device identifier and not ours.
        foreign = configuration(9, "rmm-123", owned=False, name="Mac", serialNumber="SER1")
        result = plan([device(A1, "Mac", serial="SER1")], [foreign])
        assert [(a.action, a.configuration_id) for a in result.actions] == [("create", None)]
        # ...even when no device is left at all.
        assert plan([], [foreign]).actions == ()

    def test_a_link_rendered_for_another_identifier_is_not_ours(self):
        forged = configuration(9, A2, owned=False, managementLink=f"https://app.addigy.com/devices/{A1}")
        assert not is_owned(forged, TEMPLATE)
        assert plan([], [forged]).actions == ()

    def test_a_device_that_fails_mapping_keeps_its_configuration(self):
        broken = {**device(A1), "policy_ids": "not a list"}  # a bad fact no longer fails a device
        result = plan([broken], [in_sync(A1, 7)])
        assert [(a.action, a.agentid) for a in result.actions] == [("fail", A1)]

    def test_a_device_that_fails_mapping_keeps_its_policy_so_the_icon_turns_red(self):
        broken = {**device(A1, policy="pol-red"), "policy_ids": "not a list"}
        (action,) = plan([broken]).actions
        assert action.policy_ids == ("pol-red",)
        results = [result_without_write(action)]
        policy = {"policy_id": "pol-red", "company_id": action.company_id}
        assert link_status(policy, results) is LinkStatus.PARTIAL

    def test_other_matches_of_a_present_device_are_not_deactivated(self):
        result = plan([device(A1)], [configuration(7, A1), configuration(8, A1)])
        assert [a.action for a in result.actions] == ["update"]  # 7 chosen; 8 left untouched

    def test_a_device_moved_to_another_company(self):
        moved = device(A2, "Moved Mac", policy="pol-beta")
        old_company = [in_sync(A1, 7), configuration(8, A2)]
        old = plan_company(ACME, [device(A1)], old_company, resolved(), company_name="AcmeCorp")
        new = plan_company(BETA, [moved], [], resolved(), company_name="Beta")
        assert [(a.agentid, a.action) for a in old.actions] == [(A1, "none"), (A2, "deactivate")]
        assert [(a.agentid, a.action, a.desired["company"]) for a in new.actions] == [
            (A2, "create", {"id": BETA})
        ]


class TestDuplicates:
    def test_same_device_in_two_policies_is_merged(self):
        result = plan([device(A1, serial="S1", policy="pol-1"), device(A1, serial="s1 ", policy="pol-2")])
        assert [(a.action, a.policy_ids) for a in result.actions] == [("create", ("pol-1", "pol-2"))]

    def test_a_record_listed_twice_is_merged_with_a_warning(self):
        result = plan([device(A1, serial="S1"), device(A1, serial="S1")])
        assert len(result.actions) == 1
        assert "listed twice for the same policy; merged" in result.actions[0].warnings

    def test_another_device_with_the_same_agent_id_fails(self):
        result = plan([device(A1, "First", serial="S1"), device(A1, "Second", serial="S2", policy="pol-2")])
        first, second = result.actions
        assert first.action == "create"
        assert second.action == "fail"
        assert second.policy_ids == ("pol-2",)
        assert second.error == (
            f"device 'Second' (agent id {A1}): deviceIdentifier: agent id also on device 'First' "
            "(another serial number); an agent id identifies one device"
        )


class TestFailures:
    def test_one_bad_device_does_not_stop_the_others(self):
        nameless = device(A2, None)
        result = plan([device(A1), {"facts": {"device_name": "No agent"}}, nameless, device(A3)])
        assert [a.action for a in result.actions] == ["create", "fail", "create", "create"]
        assert result.actions[2].device_name == A2
        failed = result.actions[1]
        assert (failed.agentid, failed.device_name) == (None, "No agent")
        assert failed.error == "device 'No agent' (agent id none): agentid: missing or not text: None"

    def test_configurations_of_another_company_or_without_id_are_ignored_with_a_warning(self):
        result = plan([device(A1)], [configuration(7, A1, company=BETA), {"id": "x", "deviceIdentifier": A1}])
        assert [a.action for a in result.actions] == ["create"]
        assert result.warnings == (
            f"configuration 7 belongs to company {BETA}; ignored",
            "configuration without an integer id skipped: 'x'",
        )


class TestReplan:
    def test_a_create_whose_configuration_now_exists_is_not_created_again(self):
        action = plan([device(A1, serial="S1")]).actions[0]
        created = configuration(
            77, A1, **{k: v for k, v in action.desired.items() if k not in ("status", "type", "company")}
        )
        again = replan_action(action, [created])
        assert (again.action, again.configuration_id, again.changes) == ("none", 77, {})
        assert "configuration 77 already exists (an earlier try); not created again" in again.warnings

    def test_a_create_still_missing_stays_a_create(self):
        action = plan([device(A1)]).actions[0]
        assert replan_action(action, []) == action

    def test_an_applied_update_becomes_none(self):
        existing = in_sync(A1, 7, local_ip="10.0.0.1")
        action = plan([device(A1, local_ip="10.0.0.2")], [existing]).actions[0]
        existing["ipAddress"] = "10.0.0.2"
        assert replan_action(action, index_configurations([existing])).action == "none"

    def test_a_partly_applied_update_keeps_the_rest(self):
        existing = in_sync(A1, 7, local_ip="10.0.0.1", serial="S1")
        action = plan([device(A1, local_ip="10.0.0.2", serial="S2")], [existing]).actions[0]
        existing["ipAddress"] = "10.0.0.2"
        assert replan_action(action, [existing]).changes == {"serialNumber": "S2"}

    def test_an_adoption_not_yet_written_stays_on_its_configuration(self):
        historical = configuration(40, None, serialNumber="C02ABC123")
        action = plan([device(A1, serial="C02ABC123")], [historical]).actions[0]
        again = replan_action(action, [historical])
        assert (again.action, again.configuration_id) == ("update", 40)
        assert again.changes == action.changes

    def test_an_update_whose_configuration_vanished_becomes_a_create(self):
        action = plan([device(A1)], [configuration(7, A1, status=INACTIVE)]).actions[0]
        again = replan_action(action, [])
        assert (again.action, again.configuration_id) == ("create", None)
        assert again.desired["company"] == {"id": ACME}

    def test_protected_fields_survive_a_replan(self):
        action = plan([device(A1, "New")], settings=resolved(protected_fields=["name"])).actions[0]
        created_by_someone = configuration(7, A1, name="Hand-named")
        assert "name" not in replan_action(action, [created_by_someone]).changes

    def test_deactivation(self):
        action = plan([], [configuration(8, A2)]).actions[0]
        assert replan_action(action, [configuration(8, A2)]).changes == {"status": {"id": INACTIVE}}
        done = replan_action(action, [configuration(8, A2, status=INACTIVE)])
        assert (done.action, done.changes, done.is_write) == ("deactivate", {}, False)
        gone = replan_action(action, [])
        assert not gone.is_write
        assert "configuration 8 no longer exists; nothing to deactivate" in gone.warnings
        reused = replan_action(action, [configuration(8, "someone-else")])
        assert not reused.is_write

    def test_fail_is_unchanged(self):
        action = plan([{"agentid": ""}]).actions[0]
        assert replan_action(action, [configuration(7, A1)]) is action


class TestBatches:
    def test_no_op_resync_yields_no_batch(self):
        result = plan([device(A1)], [in_sync(A1, 7)])
        assert result.counts == {"create": 0, "update": 0, "deactivate": 0, "none": 1, "fail": 0}
        assert result.write_actions() == []
        assert result.batches() == []

    def test_labels_and_sizes(self):
        devices = [device(f"agent-{n:04}") for n in range(5)]
        configs = [configuration(100, "agent-0000", status=INACTIVE), configuration(101, "gone")]
        batches = plan(devices, configs).batches(size=2)
        assert [b.label for b in batches] == [
            "AcmeCorp: devices 1–2 (create 1, update 1)",
            "AcmeCorp: devices 3–4 (create 2)",
            "AcmeCorp: devices 5–6 (create 1, deactivate 1)",
        ]
        assert [(b.index, b.first, len(b.actions)) for b in batches] == [(0, 1, 2), (1, 3, 2), (2, 5, 2)]
        assert plan(devices).batches(size=500)[0].label == "AcmeCorp: devices 1–5 (create 5)"
        assert plan(devices[:1]).batches()[0].label == "AcmeCorp: device 1 (create 1)"

    def test_label_without_company_name_and_with_a_hostile_one(self):
        bare = plan_company(ACME, [device(A1)], [], resolved())
        assert bare.batches()[0].label == f"company {ACME}: device 1 (create 1)"
        hostile = plan_company(ACME, [device(A1)], [], resolved(), company_name="Evil\nCorp")
        assert hostile.batches()[0].label.startswith("Evil\\nCorp:")

    def test_fail_and_none_are_not_batched(self):
        result = plan([device(A1), {"agentid": None}], [in_sync(A1, 7)])
        assert result.batches() == []

    def test_bad_size(self):
        with pytest.raises(ValueError, match="at least 1"):
            plan([device(A1)]).batches(size=0)

    def test_json_round_trips(self):
        result = plan(
            [device(A1, serial="S1"), device(A2), {"agentid": ""}],
            [configuration(7, A2, status=INACTIVE), configuration(8, A3)],
        )
        for batch in result.batches(size=1):
            data = json.loads(json.dumps(batch.to_dict()))
            assert data["label"] == batch.label
            assert Batch.from_dict(data) == batch
        assert CompanyPlan.from_dict(json.loads(json.dumps(result.to_dict()))) == result
        for action in result.actions:
            assert DeviceAction.from_dict(json.loads(json.dumps(action.to_dict()))) == action

    def test_device_action_shape(self):
        action = plan([device(A1)], [configuration(7, A1, status=INACTIVE)]).actions[0]
        assert action.to_dict() == {
            "agentid": A1,
            "device_name": "Mac",
            "policy_ids": ["pol-1"],
            "company_id": ACME,
            "action": "update",
            "configuration_id": 7,
            "desired": {
                "name": "Mac",
                "deviceIdentifier": A1,
                "managementLink": f"https://app.addigy.com/devices/{A1}",
                "status": {"id": ACTIVE},
                "type": {"id": 10},
                "company": {"id": ACME},
            },
            "changes": {"name": "Mac", "status": {"id": ACTIVE}},
            "protected_fields": [],
            "error": None,
            "warnings": [
                "serialNumber: no serial number (fact 'serial_number' is missing or null); not written"
            ],
        }

    def test_from_dict_refuses_unknown_actions(self):
        with pytest.raises(ValueError, match="not a device action"):
            DeviceAction.from_dict({"action": "delete", "company_id": 1})


class TestOrphans:
    def test_our_active_configurations_in_unlinked_companies(self):
        configs = [
            configuration(1, "a", company=300),
            configuration(2, "b", company=300, status=INACTIVE),  # already inactive
            configuration(3, "c", company=300, status=ON_HOLD),  # a technician's status: left alone
            configuration(4, "d", company=300, owned=False),  # not ours
            configuration(5, "e", company=301),
            configuration(6, "f", company=ACME),  # still linked
        ]
        plans = plan_orphans(configs, resolved(), linked_company_ids=[ACME])
        assert [(p.company_id, [(a.configuration_id, a.action) for a in p.actions]) for p in plans] == [
            (300, [(1, "deactivate")]),
            (301, [(5, "deactivate")]),
        ]
        assert plans[0].company_name == "Acme Corp"  # from the configuration's company reference


def test_render_plan():
    result = plan(
        [device(A1, "Ann's Mac"), {"agentid": "", "facts": {"device_name": "Broken"}}],
        [configuration(8, A2, name="Gone Mac")],
    )
    text = render_plan(result)
    assert (
        text.splitlines()[0] == f"AcmeCorp (company {ACME}): create 1, update 0, deactivate 1, none 0, fail 1"
    )
    assert "Ann's Mac" in text
    assert "agentid: missing or not text: ''" in text
    assert "Gone Mac" in text


class TestCutBatches:
    def plans(self, sizes: dict[int, int]) -> list:
        from airflow_provider_connectwise.core.planning import CompanyPlan, DeviceAction

        return [
            CompanyPlan(
                company,
                f"Co{company}",
                tuple(
                    DeviceAction(
                        f"{company}-{i}", f"dev {i}", ("p",), company, "create", desired={"name": "x"}
                    )
                    for i in range(count)
                ),
            )
            for company, count in sizes.items()
        ]

    def test_batches_span_companies_and_every_write_appears_once(self):
        from airflow_provider_connectwise.core.planning import cut_batches

        plans = self.plans({1: 3, 2: 250, 3: 2, 4: 1})  # many small companies
        batches = cut_batches(plans, size=100, slots=4)
        assert len(batches) == 4  # 256 writes: 3 batches of 100 rounded up to the 4 slots
        assert max(len(b.actions) for b in batches) <= 100
        seen = [a.agentid for b in batches for a in b.actions]
        assert sorted(seen) == sorted(a.agentid for p in plans for a in p.actions)
        assert batches[0].company_id is None  # companies 1 and 2 share the first batch
        assert batches[0].label.startswith("Co1 +1 more: devices 1–")

    def test_few_writes_still_fill_the_slots_and_none_means_no_batch(self):
        from airflow_provider_connectwise.core.planning import Batch, cut_batches

        assert cut_batches(self.plans({1: 0}), size=500, slots=4) == []
        three = cut_batches(self.plans({1: 3}), size=500, slots=4)
        assert [len(b.actions) for b in three] == [1, 1, 1]
        assert three[0].company_id == 1
        assert Batch.from_dict(three[0].to_dict()) == three[0]
        even = cut_batches(self.plans({1: 1000}), size=500, slots=4)
        assert [len(b.actions) for b in even] == [250] * 4
        with pytest.raises(ValueError, match="at least 1"):
            cut_batches(self.plans({1: 1}), size=0)


class TestScope:
    def test_a_run_that_does_not_hold_the_company_deactivates_nothing_and_says_so(self):
        ours = configuration(7, A2)
        held = plan([device(A1)], [ours])
        assert [a.action for a in held.actions] == ["create", "deactivate"]
        partial = plan([device(A1)], [ours], deactivate=False)
        assert [a.action for a in partial.actions] == ["create"]
        assert any("1 configurations of devices not in this run" in w for w in partial.warnings)

    def test_scope_round_trips_and_junk_is_the_empty_scope(self):
        scope = Scope(companies=frozenset({ACME, BETA}))
        assert Scope.from_dict(json.loads(json.dumps(scope.to_dict()))) == scope
        assert scope.holds(ACME) and not scope.holds(999)
        assert Scope(all_policies=True).holds(999)
        for junk in (None, [], "all", {"all_policies": "yes", "companies": ["1", True, None]}):
            assert Scope.from_dict(junk) == Scope()
            assert not Scope.from_dict(junk).holds(1)

    def test_a_policy_site_is_written_on_create_and_kept_in_sync(self):
        (create,) = plan([device(A1)], sites={"pol-1": 31}).actions
        assert create.desired["site"] == {"id": 31}
        existing = {**in_sync(A1, 7), "site": {"id": 30}}
        (update,) = plan([device(A1)], [existing], sites={"pol-1": 31}).actions
        assert (update.action, update.changes) == ("update", {"site": {"id": 31}})
        (same,) = plan([device(A1)], [{**existing, "site": {"id": 31}}], sites={"pol-1": 31}).actions
        assert same.action == "none"
        (no_site,) = plan([device(A1)], [existing]).actions
        assert no_site.action == "none"  # a site set in ConnectWise is not ours to clear
