from __future__ import annotations

import json

import pytest
import yaml

from airflow_provider_connectwise.core.catalogue import (
    Board,
    BoardStatus,
    Catalogue,
    Company,
    ConfigurationStatus,
    ConfigurationType,
)
from airflow_provider_connectwise.core.mapping import DEFAULT_FIELD_MAPPING
from airflow_provider_connectwise.core.settings import (
    IntegrationSettings,
    ResolvedSettings,
    SettingsError,
    SettingsProblem,
    referenced_companies,
    resolve_settings,
)
from airflow_provider_connectwise.flows.settings_loading import load_settings

from .helpers import DATA, catalogue, settings_document


def problems(excinfo: pytest.ExceptionInfo[SettingsError]) -> dict[str, str]:
    return {problem.path: problem.message for problem in excinfo.value.problems}


def resolve_error(**overrides) -> dict[str, str]:
    with pytest.raises(SettingsError) as excinfo:
        resolve_settings(settings_document(**overrides), catalogue())
    return problems(excinfo)


def load_error(document) -> dict[str, str]:
    with pytest.raises(SettingsError) as excinfo:
        load_settings(document)
    return problems(excinfo)


class TestLoad:
    def test_from_dict_json_text_json_file_and_yaml_file_agree(self, tmp_path):
        document = settings_document()
        json_path = tmp_path / "settings.json"
        json_path.write_text(json.dumps(document), encoding="utf-8")
        yaml_path = tmp_path / "settings.yml"
        yaml_path.write_text(json.dumps(document), encoding="utf-8")  # JSON is YAML
        expected = load_settings(document)
        assert load_settings(json.dumps(document)) == expected
        assert load_settings(json_path) == expected
        assert load_settings(str(yaml_path)) == expected

    def test_example_yaml_file(self):
        settings = load_settings(DATA / "settings.yaml")
        assert settings.self_service.board == 4
        assert settings.configuration_statuses.inactive == "Inactive"  # trimmed
        assert settings.field_mapping.lastLoginName is None
        assert settings.field_mapping.serialNumber == "serial_number"  # default kept
        assert [rule.op for rule in settings.configuration_types.conditional] == ["prefix", "contains"]

    def test_an_integration_settings_is_returned_as_is(self):
        settings = load_settings(settings_document())
        assert load_settings(settings) is settings

    def test_defaults(self):
        document = settings_document()
        for key in ("policy_links", "use_mdm_links", "field_mapping", "protected_fields", "adopt_by_serial"):
            del document[key]
        settings = load_settings(document)
        assert settings.policy_links == []
        assert settings.use_mdm_links is True
        assert settings.adopt_by_serial is True
        assert settings.protected_fields == []
        assert settings.field_mapping.as_dict() == dict(DEFAULT_FIELD_MAPPING)
        assert settings.management_link_template == "https://app.addigy.com/devices/{agentid}"

    def test_unknown_keys_are_named_with_a_suggestion_and_the_allowed_keys(self):
        document = settings_document()
        document["monitoring"] = {**document["monitoring"], "bord": "x"}
        document["adopt_by_serials"] = True
        found = load_error(document)
        assert found["monitoring.bord"] == (
            "unknown setting 'bord' (did you mean 'board'?); settings here: board, open_status, closed_status, "
            "type, subtype, item, priority, priority_by_severity, source, notes, keep_touched_tickets_open"
        )
        assert found["adopt_by_serials"].startswith(
            "unknown setting 'adopt_by_serials' (did you mean 'adopt_by_serial'?)"
        )

    def test_every_problem_is_reported_at_once(self):
        document = settings_document()
        del document["monitoring"]
        document["use_mdm_links"] = "maybe"
        document["self_service"] = {"board": True, "open_status": "", "closed_status": 0}
        found = load_error(document)
        assert found == {
            "monitoring": "required setting is missing",
            "use_mdm_links": "Input should be a valid boolean, unable to interpret input (got 'maybe')",
            "self_service.board": "expected a name or an id, got the boolean true",
            "self_service.open_status": "expected a name or an id, got an empty text",
            "self_service.closed_status": "an id is a positive integer, got 0",
        }

    def test_error_text_is_a_readable_list(self):
        document = settings_document()
        del document["monitoring"]
        document["adopt_by_serial"] = "perhaps"
        with pytest.raises(SettingsError) as excinfo:
            load_settings(document)
        assert str(excinfo.value).splitlines() == [
            "The ConnectWise settings have 2 problems:",
            "  - monitoring: required setting is missing",
            "  - adopt_by_serial: Input should be a valid boolean, unable to interpret input (got 'perhaps')",
        ]

    @pytest.mark.parametrize(
        ("content", "suffix", "message"),
        [
            ('{"monitoring": {}, "monitoring": {}}', ".json", "key 'monitoring' appears twice"),
            ("monitoring: {}\nmonitoring: {}\n", ".yaml", "key 'monitoring' appears twice"),
            ("{not json", ".json", "is not valid JSON"),
            ("a: [unclosed", ".yaml", "is not valid YAML"),
            ("- a\n- b\n", ".yaml", "the settings must be a mapping of settings, got list"),
            ("a = 1", ".toml", "expected a .json, .yaml or .yml file"),
        ],
    )
    def test_bad_files(self, tmp_path, content, suffix, message):
        path = tmp_path / f"settings{suffix}"
        path.write_text(content, encoding="utf-8")
        assert message in load_error(path)["<document>"]

    def test_missing_file(self, tmp_path):
        assert "cannot read settings file" in load_error(tmp_path / "nope.yaml")["<document>"]

    def test_yaml_cannot_build_python_objects(self, tmp_path):
        path = tmp_path / "settings.yaml"
        path.write_text("monitoring: !!python/object/apply:os.system ['echo hi']\n", encoding="utf-8")
        assert "is not valid YAML" in load_error(path)["<document>"]

    def test_json_text_with_duplicate_keys(self):
        assert "appears twice" in load_error('{"a": 1, "a": 2}')["<document>"]


class TestDocumentRules:
    def test_bad_regex_names_the_rule_index_and_the_pattern_with_every_other_problem(self):
        document = settings_document()
        document["configuration_types"]["conditional"] = [
            {"type": "Laptop", "fact": "hardware_model", "op": "prefix", "value": "MacBook"},
            {"type": "Laptop", "fact": "hardware_model", "op": "regex", "value": "Mac(Book"},
        ]
        document["monitoring"]["board"] = "Monitorng"
        with pytest.raises(SettingsError) as excinfo:
            resolve_settings(document, catalogue())
        found = problems(excinfo)
        assert found["configuration_types.conditional[1].value"].startswith(
            "invalid regular expression 'Mac(Book': missing )"
        )
        assert "monitoring.board" in found  # reported together, not one at a time

    @pytest.mark.parametrize(
        ("rule", "message"),
        [
            ({"op": "one_of", "value": "Mac"}, "op 'one_of' needs a non-empty list as value"),
            ({"op": "one_of", "value": []}, "op 'one_of' needs a non-empty list as value"),
            (
                {"op": "equals", "value": ["a", "b"]},
                "op 'equals' needs one text value, not a list (use 'one_of' for a list)",
            ),
            ({"op": "contains", "value": "  "}, "op 'contains' needs a non-empty value"),
            (
                {"op": "like", "value": "x"},
                "Input should be 'equals', 'one_of', 'contains', 'prefix' or 'regex'",
            ),
            ({"op": "equals", "value": True}, "True is a boolean; quote it if you mean the text 'true'"),
            ({"op": "equals", "value": "x", "fact": " "}, "must name an MDM fact identifier"),
        ],
    )
    def test_rule_syntax(self, rule, message):
        document = settings_document()
        document["configuration_types"]["conditional"] = [
            {"type": "Laptop", "fact": "hardware_model", **rule}
        ]
        assert any(message in text for text in load_error(document).values())

    def test_rule_numbers_are_text(self):
        document = settings_document()
        document["configuration_types"]["conditional"] = [
            {"type": "Laptop", "fact": "os_major", "op": "one_of", "value": [13, 14.5]}
        ]
        assert load_settings(document).configuration_types.conditional[0].value == ["13", "14.5"]

    def test_protected_fields(self):
        document = settings_document(
            protected_fields=["name", "deviceIdentifier", "managementLink", "seriall"]
        )
        found = load_error(document)
        assert found["protected_fields[1]"].startswith("'deviceIdentifier' can never be protected")
        assert found["protected_fields[2]"].startswith("'managementLink' can never be protected")
        assert found["protected_fields[3]"].startswith("unknown field 'seriall'")
        assert "name, serialNumber, macAddress" in found["protected_fields[3]"]
        assert "protected_fields[0]" not in found

    def test_field_mapping(self):
        document = settings_document(
            field_mapping={"deviceIdentifier": "udid", "serial": "x", "name": None, "ram": 16, "osType": " "}
        )
        found = load_error(document)
        assert found["field_mapping.deviceIdentifier"].startswith(
            "'deviceIdentifier' is not mapped from a fact"
        )
        assert "(did you mean 'serialNumber'?)" in found["field_mapping.serial"]
        assert (
            found["field_mapping.name"]
            == "name cannot be switched off: ConnectWise requires a configuration name"
        )
        assert found["field_mapping.ram"] == "must be an MDM fact identifier, got int"
        assert found["field_mapping.osType"].startswith("must be an MDM fact identifier, or null")

    def test_field_mapping_overrides_and_switches_off(self):
        settings = load_settings(
            settings_document(field_mapping={"serialNumber": "hardware_serial", "ram": None})
        )
        mapping = settings.field_mapping.as_dict()
        assert mapping["serialNumber"] == "hardware_serial"
        assert "ram" not in mapping
        assert mapping["name"] == "device_name"

    @pytest.mark.parametrize(
        ("template", "message"),
        [
            ("https://app.addigy.com/devices/", "must contain the placeholder {agentid}"),
            ("http://app.addigy.com/devices/{agentid}", "must be an https URL"),
            ("https:///{agentid}", "must be an https URL"),
            ("https://x.example/{agentid}/{policy}", "unknown placeholder {policy}"),
            ('https://x.example/"{agentid}', "must not contain '\"'"),
            ("https://x.example/*/{agentid}", "must not contain '*'"),
            ("https://x.example/\\{agentid}", "must not contain '\\\\'"),
            ("https://x.example/a b/{agentid}", "must not contain ' '"),
            ("https://x.example/" + "a" * 900 + "{agentid}", "must be at most 700 characters"),
        ],
    )
    def test_management_link_template(self, template, message):
        found = load_error(settings_document(management_link_template=template))
        assert message in found["management_link_template"]

    def test_policy_ids_may_be_numbers_in_yaml(self):
        settings = load_settings(settings_document(policy_links=[{"policy": 42, "company": "AcmeCorp"}]))
        assert settings.policy_links[0].policy == "42"


class TestResolve:
    def test_example_file_resolves_to_ids(self):
        settings = resolve_settings(load_settings(DATA / "settings.yaml"), catalogue())
        assert (
            settings.monitoring.board_id,
            settings.monitoring.open_status_id,
            settings.monitoring.closed_status_id,
        ) == (2, 21, 23)
        assert (settings.self_service.board_id, settings.self_service.board_name) == (4, "Self Service")
        assert (settings.active_status_id, settings.inactive_status_id) == (1, 2)
        assert settings.default_type_id == 10
        assert [(rule.type_id, rule.type_name) for rule in settings.type_rules] == [
            (11, "Managed Server"),
            (14, "Laptop"),
        ]
        assert [(link.policy_id, link.company_id) for link in settings.policy_links] == [
            ("pol-1", 250),
            ("pol-2", 251),
        ]
        assert settings.protected_fields == ("name",)
        assert "lastLoginName" not in settings.field_mapping
        assert settings.field_mapping["serialNumber"] == "serial_number"
        assert settings.use_mdm_links is False
        assert settings.warnings == ()

    def test_names_are_trimmed_and_case_insensitive_and_ids_may_be_text(self):
        settings = resolve_settings(
            settings_document(
                monitoring={"board": "  monitoring ", "open_status": "ACKNOWLEDGED", "closed_status": "23"}
            ),
            catalogue(),
        )
        assert (settings.monitoring.board_id, settings.monitoring.open_status_id) == (2, 22)
        assert settings.monitoring.closed_status_id == 23

    def test_misspelt_board_lists_the_active_boards(self):
        found = resolve_error(
            monitoring={"board": "Monitorng", "open_status": "New", "closed_status": "Completed"}
        )
        assert found == {
            "monitoring.board": "board 'Monitorng' not found; boards: Help Desk, Monitoring, Self Service"
        }

    def test_unknown_board_id(self):
        found = resolve_error(monitoring={"board": 99, "open_status": "New", "closed_status": "Completed"})
        assert found["monitoring.board"].startswith("board id 99 not found; boards: Help Desk")

    def test_inactive_board(self):
        found = resolve_error(
            self_service={"board": "Projects", "open_status": "New", "closed_status": "Done"}
        )
        assert found == {
            "self_service.board": "board 'Projects' is inactive; active boards: Help Desk, Monitoring, Self Service"
        }

    def test_status_of_another_board_says_whose_it_is(self):
        found = resolve_error(
            monitoring={"board": "Monitoring", "open_status": "New", "closed_status": "Resolved"}
        )
        assert found == {
            "monitoring.closed_status": "status 'Resolved' belongs to board 'Help Desk', not 'Monitoring'; "
            "closed statuses of 'Monitoring': Completed"
        }

    def test_status_not_anywhere(self):
        found = resolve_error(
            monitoring={"board": "Monitoring", "open_status": "Nw", "closed_status": "Completed"}
        )
        assert found == {
            "monitoring.open_status": "status 'Nw' not found on board 'Monitoring'; "
            "open statuses of 'Monitoring': Acknowledged, New"
        }

    @pytest.mark.parametrize(
        ("section", "message"),
        [
            (
                {"board": "Monitoring", "open_status": "Completed", "closed_status": "Completed"},
                {
                    "monitoring.open_status": "status 'Completed' is a closed status; open statuses of 'Monitoring': Acknowledged, New"
                },
            ),
            (
                {"board": "Monitoring", "open_status": "New", "closed_status": "Acknowledged"},
                {
                    "monitoring.closed_status": "status 'Acknowledged' is not a closed status; closed statuses of 'Monitoring': Completed"
                },
            ),
            (
                {"board": "Monitoring", "open_status": "New", "closed_status": "Closed (old)"},
                {
                    "monitoring.closed_status": "status 'Closed (old)' is inactive; closed statuses of 'Monitoring': Completed"
                },
            ),
        ],
    )
    def test_open_and_closed_statuses(self, section, message):
        assert resolve_error(monitoring=section) == message

    def test_inactive_open_status(self):
        found = resolve_error(
            self_service={"board": "Help Desk", "open_status": "Waiting (old)", "closed_status": "Closed"}
        )
        assert found == {
            "self_service.open_status": "status 'Waiting (old)' is inactive; open statuses of 'Help Desk': In Progress, New"
        }

    def test_ambiguous_names_ask_for_the_id(self):
        cat = Catalogue(
            boards=(
                Board(1, "Alerts", statuses=(BoardStatus(11, "New"), BoardStatus(12, "Done", closed=True))),
                Board(2, "alerts", statuses=(BoardStatus(21, "New"), BoardStatus(22, "Done", closed=True))),
            ),
            configuration_statuses=(
                ConfigurationStatus(1, "Active"),
                ConfigurationStatus(2, "Inactive", closed=True),
            ),
            configuration_types=(ConfigurationType(10, "Mac"),),
        )
        document = {
            "monitoring": {"board": "Alerts", "open_status": "New", "closed_status": "Done"},
            "self_service": {"board": 2, "open_status": "New", "closed_status": "Done"},
            "configuration_statuses": {"active": "Active", "inactive": "Inactive"},
            "configuration_types": {"default": "Mac"},
        }
        with pytest.raises(SettingsError) as excinfo:
            resolve_settings(document, cat)
        assert problems(excinfo) == {
            "monitoring.board": "board 'Alerts' is ambiguous: ids 1, 2 share it; use the id"
        }

    def test_configuration_statuses(self):
        found = resolve_error(configuration_statuses={"active": "Retired", "inactive": "Gone"})
        assert found == {
            "configuration_statuses.active": "configuration status 'Retired' is a closed status; linked devices need "
            "an open one; open configuration statuses: Active, On Hold",
            "configuration_statuses.inactive": "configuration status 'Gone' not found; configuration statuses: "
            "Active, Inactive, On Hold, Retired",
        }

    def test_active_and_inactive_must_differ(self):
        found = resolve_error(configuration_statuses={"active": "Active", "inactive": 1})
        assert found == {
            "configuration_statuses.inactive": "configuration status 'Active' is also the active status; removed "
            "devices need a different one"
        }

    def test_an_open_inactive_status_is_a_warning(self):
        cat = catalogue()
        settings = resolve_settings(
            settings_document(configuration_statuses={"active": "Active", "inactive": "On Hold"}), cat
        )
        assert settings.inactive_status_id == 3
        assert settings.warnings == (
            "configuration_statuses.inactive: configuration status 'On Hold' is not a closed status; configurations "
            "of removed devices will stay in open lists",
        )

    def test_type_with_required_questions_names_them(self):
        found = resolve_error(configuration_types={"default": "Network Device"})
        assert found == {
            "configuration_types.default": "configuration type 'Network Device' has required questions "
            "('Firmware version', 'Uplink port'); devices cannot be linked with a type that has required questions; "
            "usable types: Laptop, Managed Server, Managed Workstation"
        }

    def test_conditional_types_are_checked_with_their_index(self):
        found = resolve_error(
            configuration_types={
                "default": "Laptop",
                "conditional": [
                    {"type": "Managed Server", "fact": "f", "op": "equals", "value": "x"},
                    {"type": "Legacy", "fact": "f", "op": "equals", "value": "x"},
                    {"type": 77, "fact": "f", "op": "equals", "value": "x"},
                ],
            }
        )
        assert found == {
            "configuration_types.conditional[1].type": "configuration type 'Legacy' is inactive; usable types: "
            "Laptop, Managed Server, Managed Workstation",
            "configuration_types.conditional[2].type": "configuration type id 77 not found; usable types: "
            "Laptop, Managed Server, Managed Workstation",
        }

    def test_companies(self):
        found = resolve_error(
            policy_links=[
                {"policy": "pol-1", "company": "acmecorp"},
                {"policy": "pol-2", "company": "OldCo"},
                {"policy": "pol-3", "company": "Acme Corp"},  # a name, not an identifier
                {"policy": "pol-4", "company": 999},
            ]
        )
        assert found == {
            "policy_links[1].company": "company 'OldCo' (Old Company) is deleted",
            "policy_links[2].company": "company 'Acme Corp' not found (companies are named by identifier or id)",
            "policy_links[3].company": "company id 999 not found (companies are named by identifier or id)",
        }

    def test_a_policy_links_to_one_company(self):
        found = resolve_error(
            policy_links=[
                {"policy": "pol-1", "company": "AcmeCorp"},
                {"policy": "pol-1", "company": 250},  # the same link again: fine
                {"policy": "pol-1", "company": "Beta"},
            ]
        )
        assert found == {
            "policy_links[2].policy": "policy 'pol-1' is already linked to company 'AcmeCorp' by policy_links[0]; "
            "a policy links to one company"
        }

    def test_all_problems_at_once_in_document_order(self):
        with pytest.raises(SettingsError) as excinfo:
            resolve_settings(
                settings_document(
                    monitoring={"board": "Monitorng", "open_status": "New", "closed_status": "Completed"},
                    configuration_types={"default": "Legacy"},
                    policy_links=[{"policy": "p", "company": "Nope"}],
                ),
                catalogue(),
            )
        assert [p.path for p in excinfo.value.problems] == [
            "monitoring.board",
            "configuration_types.default",
            "policy_links[0].company",
        ]
        assert str(excinfo.value).startswith(
            "The ConnectWise settings have 3 problems:\n  - monitoring.board: board"
        )

    def test_problem_carries_value_and_choices_for_the_ui(self):
        with pytest.raises(SettingsError) as excinfo:
            resolve_settings(
                settings_document(
                    monitoring={"board": "Monitorng", "open_status": "New", "closed_status": "Completed"}
                ),
                catalogue(),
            )
        assert excinfo.value.to_dict() == {
            "problems": [
                {
                    "path": "monitoring.board",
                    "message": "board 'Monitorng' not found; boards: Help Desk, Monitoring, Self Service",
                    "value": "Monitorng",
                    "choices": ["Help Desk", "Monitoring", "Self Service"],
                }
            ]
        }

    def test_long_choice_lists_are_cut(self):
        statuses = tuple(BoardStatus(100 + n, f"Status {n:02}") for n in range(40))
        cat = Catalogue(boards=(Board(1, "Big", statuses=statuses),))
        resolver_doc = settings_document(
            monitoring={"board": "Big", "open_status": "nope", "closed_status": "nope"}
        )
        with pytest.raises(SettingsError) as excinfo:
            resolve_settings(resolver_doc, cat)
        assert "Status 29 and 10 more" in problems(excinfo)["monitoring.open_status"]

    def test_no_links_at_all_is_a_warning(self):
        settings = resolve_settings(settings_document(use_mdm_links=False, policy_links=[]), catalogue())
        assert settings.warnings == (
            "policy_links is empty and use_mdm_links is false: no policy is linked, no device will be bound",
        )

    def test_settings_error_needs_a_problem(self):
        with pytest.raises(ValueError, match="at least one problem"):
            SettingsError([])
        assert (
            str(SettingsError([SettingsProblem("a", "b")]))
            == "The ConnectWise settings have 1 problem:\n  - a: b"
        )


class TestResolvedSettings:
    def test_json_round_trip(self):
        settings = resolve_settings(load_settings(DATA / "settings.yaml"), catalogue())
        assert ResolvedSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings

    def test_json_shape(self):
        data = resolve_settings(load_settings(DATA / "settings.yaml"), catalogue()).to_dict()
        assert data["monitoring"] == {
            "board_id": 2,
            "open_status_id": 21,
            "closed_status_id": 23,
            "board_name": "Monitoring",
            "open_status_name": "New",
            "closed_status_name": "Completed",
            # ticket classification and notes (none in this document: the defaults)
            "type_id": None,
            "subtype_id": None,
            "item_id": None,
            "priority_id": None,
            "priority_by_severity": {},
            "source": None,
            "notes": "internal",
            "keep_touched_tickets_open": True,
        }
        assert data["policy_links"][0] == {
            "policy_id": "pol-1",
            "company_id": 250,
            "company_identifier": "AcmeCorp",
            "company_name": "Acme Corp",
            "site_id": None,
            "mode": "all",
        }
        assert data["type_rules"][0] == {
            "type_id": 11,
            "type_name": "Managed Server",
            "fact": "hardware_model",
            "op": "prefix",
            "value": "Macmini",
            "case_sensitive": False,
        }

    @pytest.mark.parametrize(
        ("use_mdm_links", "policy", "mdm_company", "expected"),
        [
            (True, "pol-1", 251, 250),  # the explicit link wins over the MDM's record
            (True, "pol-9", 251, 251),
            (True, "pol-9", "251", 251),
            (True, "pol-9", 0, None),  # Addigy's "not linked"
            (True, "pol-9", None, None),
            (True, "pol-9", True, None),
            (True, "pol-9", "abc", None),
            (False, "pol-9", 251, None),
            (False, "pol-1", None, 250),
        ],
    )
    def test_company_for_policy(self, use_mdm_links, policy, mdm_company, expected):
        settings = resolve_settings(
            settings_document(
                use_mdm_links=use_mdm_links, policy_links=[{"policy": "pol-1", "company": "AcmeCorp"}]
            ),
            catalogue(),
        )
        assert settings.company_for_policy(policy, mdm_company) == expected


def test_referenced_companies_lists_identifiers_and_ids():
    document = settings_document(
        policy_links=[
            {"policy": "a", "company": "AcmeCorp"},
            {"policy": "b", "company": 251},
            {"policy": "c", "company": "1234"},  # an identifier or an id: both are fetched
            {"policy": "d", "company": "AcmeCorp"},
        ]
    )
    assert referenced_companies(document) == (("AcmeCorp", "1234"), (251, 1234))


def test_companies_may_be_partial():
    cat = catalogue()
    partial = Catalogue(
        cat.boards, cat.configuration_statuses, cat.configuration_types, (Company(251, "Beta", "Beta LLC"),)
    )
    document = settings_document(
        policy_links=[{"policy": "a", "company": "Beta"}, {"policy": "b", "company": "AcmeCorp"}]
    )
    with pytest.raises(SettingsError) as excinfo:
        resolve_settings(document, partial)
    assert list(problems(excinfo)) == ["policy_links[1].company"]


def test_integration_settings_forbid_assignment():
    settings = load_settings(settings_document())
    assert isinstance(settings, IntegrationSettings)
    with pytest.raises(ValueError, match="frozen"):
        settings.adopt_by_serial = False


class TestSettingsText:
    """YAML text passed as ``settings=`` is the document, not a path; odd YAML keys fail as problems."""

    def test_yaml_text_is_read_as_the_document(self):
        document = yaml.safe_dump(settings_document())
        assert "\n" in document
        assert load_settings(document) == load_settings(settings_document())
        one_line = "monitoring: {board: Monitoring, open_status: New, closed_status: Resolved}"
        with pytest.raises(SettingsError) as caught:
            load_settings(one_line)  # the document is incomplete, but it was read as a document
        assert "cannot read settings file" not in str(caught.value)

    def test_a_file_path_is_still_a_path(self, tmp_path):
        path = tmp_path / "settings.yaml"
        path.write_text(yaml.safe_dump(settings_document()))
        assert load_settings(str(path)) == load_settings(settings_document())

    @pytest.mark.parametrize("text", ["? [a, b]\n: 1\n", "{? {a: 1} : 2}\n", "monitoring:\n  ? [x]\n  : y\n"])
    def test_an_unhashable_yaml_key_is_a_settings_problem(self, text):
        with pytest.raises(SettingsError, match=r"key must be a plain name|not valid"):
            load_settings(text)
