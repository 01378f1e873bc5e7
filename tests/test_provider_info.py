"""Airflow's own ProvidersManager sees the provider, its connection types and form fields."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def providers_manager():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    manager.initialize_providers_hooks()
    return manager


def test_provider_is_discovered_through_its_entry_point(providers_manager):
    assert "airflow-provider-connectwise" in providers_manager.providers


def test_connectwise_connection_type_and_hook(providers_manager):
    hooks = providers_manager.hooks
    assert "connectwise" in hooks
    info = hooks["connectwise"]
    assert info.hook_class_name == "airflow_provider_connectwise.hooks.connectwise.ConnectWiseHook"
    assert info.connection_id_attribute_name == "connectwise_conn_id"
    assert info.hook_name == "ConnectWise PSA"


def test_connection_form_asks_the_seeds_questions(providers_manager):
    widgets = providers_manager.connection_form_widgets
    public = widgets["extra__connectwise__public_api_key"]
    client = widgets["extra__connectwise__client_id"]
    assert public.field["schema"]["title"] == "Public key"
    assert client.field["schema"]["title"] == "Client ID"
    behaviour = providers_manager.field_behaviours["connectwise"]
    assert behaviour["relabeling"] == {
        "login": "ConnectWise Company ID",
        "password": "Private key",
        "host": "Site URL",
    }
    assert set(behaviour["hidden_fields"]) == {"port", "schema", "extra"}


def test_both_keys_are_secrets_in_the_form_and_the_rest_api(providers_manager):
    from airflow._shared.secrets_masker import redact, should_hide_value_for_key

    widgets = providers_manager.connection_form_widgets
    ours = {w.field_name: w for k, w in widgets.items() if k.startswith("extra__connectwise__")}
    # the form masks the public key like the private key (the standard password field)
    assert {name for name, w in ours.items() if w.is_sensitive} == {"public_api_key"}
    # the REST API and the logs mask extra fields by name: the public key's name is one they hide
    assert should_hide_value_for_key("public_api_key")
    extra = {"public_api_key": "PUBLIC-KEY-VALUE", "client_id": "cid", "codebase": "v2025_1/"}
    assert redact(extra) == {"public_api_key": "***", "client_id": "cid", "codebase": "v2025_1/"}


def test_the_declared_airflow_floor_is_where_conn_fields_drive_the_form():
    """conn-fields build the form from Airflow 3.2.0 on (apache/airflow#60410): the floor in
    pyproject.toml may not be lower, and the installed Airflow must say the same."""
    import inspect
    import re
    from pathlib import Path

    import tomllib
    from airflow.providers_manager import ProvidersManager
    from packaging.requirements import Requirement
    from packaging.version import Version

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    airflow = next(
        Requirement(d) for d in pyproject["project"]["dependencies"] if d.startswith("apache-airflow")
    )
    floors = [Version(s.version) for s in airflow.specifier if s.operator == ">="]
    assert floors == [Version("3.2.0")], airflow
    # Airflow's own statement of when the Python form methods gave way to conn-fields
    source = inspect.getsource(ProvidersManager._import_hook)
    since = re.search(r'deprecated_provider_since = "([\d.]+)"', source)
    assert since and Version(since.group(1)) == floors[0], since
    assert "conn-fields" in inspect.getsource(ProvidersManager._load_ui_metadata)


def test_budget_settings_are_declared_with_the_defaults_the_code_uses():
    from airflow_provider_connectwise.budget import DEFAULTS, SECTION
    from airflow_provider_connectwise.get_provider_info import get_provider_info

    options = get_provider_info()["config"][SECTION]["options"]
    assert {name: option["default"] for name, option in options.items()} == DEFAULTS


def test_addigy_connection_type(providers_manager):
    assert "addigy" in providers_manager.hooks
    behaviour = providers_manager.field_behaviours["addigy"]
    assert behaviour["relabeling"]["password"] == "API key"
    assert "login" in behaviour["hidden_fields"]


def test_provider_info_validates_against_airflows_schema():
    import json
    from importlib.resources import files

    import jsonschema

    from airflow_provider_connectwise.get_provider_info import get_provider_info

    schema = json.loads(files("airflow").joinpath("provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_every_module_the_metadata_names_imports():
    import importlib

    from airflow_provider_connectwise.get_provider_info import get_provider_info

    info = get_provider_info()
    modules = [
        m
        for kind in ("hooks", "operators", "sensors", "triggers")
        for entry in info[kind]
        for m in entry["python-modules"]
    ]
    for module in modules:
        importlib.import_module(module)
    for path in info["extra-links"] + [c["hook-class-name"] for c in info["connection-types"]]:
        module, _, name = path.rpartition(".")
        assert hasattr(importlib.import_module(module), name), path
