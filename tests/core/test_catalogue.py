from __future__ import annotations

import json

import pytest
import yaml

from airflow_provider_connectwise.core.catalogue import (
    Board,
    BoardStatus,
    Catalogue,
    CatalogueError,
    Company,
    ConfigurationStatus,
    ConfigurationType,
    render_catalogue,
    render_settings_template,
    settings_template,
)
from airflow_provider_connectwise.core.settings import resolve_settings
from airflow_provider_connectwise.flows.settings_loading import load_settings

from .helpers import catalogue, raw_catalogue


class TestFromConnectWise:
    def test_boards_carry_their_statuses_with_flags(self):
        cat = catalogue()
        monitoring = next(b for b in cat.boards if b.name == "Monitoring")
        assert monitoring == Board(
            id=2,
            name="Monitoring",
            inactive=False,
            statuses=(
                BoardStatus(21, "New", closed=False, inactive=False, default=True),
                BoardStatus(22, "Acknowledged"),
                BoardStatus(23, "Completed", closed=True),
                BoardStatus(24, "Closed (old)", closed=True, inactive=True),
            ),
        )

    def test_missing_flags_read_as_false(self):
        # Board 4 has no inactiveFlag; type 14 has no inactiveFlag.
        cat = catalogue()
        assert next(b for b in cat.boards if b.id == 4).inactive is False
        assert next(t for t in cat.configuration_types if t.id == 14).inactive is False
        assert next(b for b in cat.boards if b.id == 3).inactive is True

    def test_configuration_statuses_use_description(self):
        assert catalogue().configuration_statuses[:2] == (
            ConfigurationStatus(1, "Active", closed=False, default=True),
            ConfigurationStatus(2, "Inactive", closed=True, default=False),
        )

    def test_required_questions_are_the_active_required_ones(self):
        types = {t.id: t for t in catalogue().configuration_types}
        assert types[12].required_questions == ("Firmware version", "Uplink port")
        assert types[11].required_questions == ()  # its only question is optional
        assert types[12].usable is False
        assert types[13].usable is False  # inactive
        assert types[10].usable is True

    def test_companies(self):
        assert catalogue().companies[2] == Company(252, "OldCo", "Old Company", deleted=True)

    def test_integer_keys_work_like_json_string_keys(self):
        raw = raw_catalogue()
        raw["board_statuses"] = {int(k): v for k, v in raw["board_statuses"].items()}
        raw["type_questions"] = {int(k): v for k, v in raw["type_questions"].items()}
        assert Catalogue.from_connectwise(**raw) == catalogue()

    def test_null_names_read_as_empty(self):
        cat = Catalogue.from_connectwise(boards=[{"id": 1, "name": None}])
        assert cat.boards[0].name == ""

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"boards": [{"name": "No id"}]}, "boards[0]: 'id' must be an integer, got None"),
            ({"boards": [{"id": True, "name": "Bool id"}]}, "boards[0]: 'id' must be an integer, got True"),
            ({"companies": ["AcmeCorp"]}, "companies[0]: expected a JSON object, got str"),
            (
                {"configuration_types": [{"id": 3, "name": 7}]},
                "configuration_types[0] (id 3): 'name' must be text",
            ),
            ({"board_statuses": {"abc": []}}, "board_statuses: key 'abc' is not an id"),
        ],
    )
    def test_bad_records_are_named(self, kwargs, message):
        with pytest.raises(
            CatalogueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
        ):
            Catalogue.from_connectwise(**kwargs)

    def test_json_round_trip(self):
        cat = catalogue()
        assert Catalogue.from_dict(json.loads(json.dumps(cat.to_dict()))) == cat

    def test_from_dict_refuses_garbage(self):
        with pytest.raises(CatalogueError, match="not a catalogue dict"):
            Catalogue.from_dict({"boards": [{"name": "no id"}]})

    def test_board_of_status(self):
        cat = catalogue()
        assert cat.board_of_status(13).name == "Help Desk"
        assert cat.board_of_status(999) is None


class TestRender:
    def test_lists_every_record(self):
        text = render_catalogue(catalogue())
        for expected in (
            "Monitoring",
            "Completed",
            "Inactive",
            "Firmware version, Uplink port",
            "AcmeCorp",
            "OldCo",
        ):
            assert expected in text

    def test_names_cannot_forge_log_lines(self):
        cat = Catalogue(boards=(Board(1, "Evil\nINFO - fake line"),))
        text = render_catalogue(cat)
        assert "Evil\\nINFO - fake line" in text
        assert "\nINFO" not in text


class TestSettingsTemplate:
    def test_picks_the_likely_choices(self):
        document = settings_template(catalogue())
        assert document["monitoring"] == {
            "board": "Monitoring",
            "open_status": "New",
            "closed_status": "Completed",
        }
        assert document["self_service"] == {
            "board": "Self Service",
            "open_status": "New (Portal)",
            "closed_status": "Closed",
        }
        assert document["configuration_statuses"] == {"active": "Active", "inactive": "Inactive"}
        assert document["configuration_types"]["default"] == "Managed Workstation"

    def test_template_resolves_against_its_catalogue(self):
        cat = catalogue()
        settings = resolve_settings(settings_template(cat), cat)
        assert (settings.monitoring.board_id, settings.monitoring.open_status_id) == (2, 21)

    def test_falls_back_to_help_desk_and_uses_ids_for_shared_names(self):
        cat = Catalogue(
            boards=(
                Board(
                    1,
                    "Help Desk",
                    statuses=(BoardStatus(11, "New", default=True), BoardStatus(12, "Done", closed=True)),
                ),
                Board(
                    2,
                    "Alerts",
                    statuses=(
                        BoardStatus(21, "Open"),
                        BoardStatus(22, "Open"),
                        BoardStatus(23, "X", closed=True),
                    ),
                ),
            ),
            configuration_statuses=(
                ConfigurationStatus(5, "In use", default=True),
                ConfigurationStatus(6, "Gone", closed=True),
            ),
            configuration_types=(
                ConfigurationType(7, "Server", required_questions=("Rack",)),
                ConfigurationType(8, "Mac"),
            ),
        )
        document = settings_template(cat)
        assert document["self_service"]["board"] == "Help Desk"
        # No board is named like "Monitoring": the first active board; its two "Open" statuses share a name.
        assert document["monitoring"]["board"] == "Help Desk"
        assert document["configuration_statuses"] == {"active": "In use", "inactive": "Gone"}
        assert document["configuration_types"]["default"] == "Mac"  # "Server" has a required question
        cat2 = Catalogue(
            boards=(Board(2, "Monitoring", statuses=(BoardStatus(21, "Open"), BoardStatus(22, "Open"))),)
        )
        assert settings_template(cat2)["monitoring"]["open_status"] == 21

    def test_empty_catalogue_leaves_choices_empty_so_loading_fails(self):
        document = settings_template(Catalogue())
        assert document["monitoring"]["board"] is None
        with pytest.raises(ValueError, match=r"monitoring\.board: expected a name or an id, got nothing"):
            load_settings(document)

    def test_rendered_yaml_lists_choices_and_loads(self, tmp_path):
        text = render_settings_template(catalogue())
        assert "usable types (active, no required questions): Managed Workstation (id 10)" in text
        assert "Network Device" not in text.split("usable types")[1].splitlines()[0]
        path = tmp_path / "settings.yaml"
        path.write_text(text, encoding="utf-8")
        assert load_settings(path) == load_settings(settings_template(catalogue()))

    def test_rendered_yaml_is_safe_with_hostile_names(self):
        cat = Catalogue(
            boards=(
                Board(
                    2,
                    'Monitoring: "x" # y\nevil: true',
                    statuses=(BoardStatus(21, "New"), BoardStatus(22, "Done", closed=True)),
                ),
            ),
            configuration_statuses=(
                ConfigurationStatus(1, "Active"),
                ConfigurationStatus(2, "Inactive", closed=True),
            ),
            configuration_types=(ConfigurationType(10, "Mac"),),
        )
        data = yaml.safe_load(render_settings_template(cat))
        assert "evil" not in data
        assert data["monitoring"]["board"] == 'Monitoring: "x" # y\nevil: true'
