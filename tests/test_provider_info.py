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
    public = widgets["extra__connectwise__public_key"]
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


def test_only_the_private_key_is_a_password_field(providers_manager):
    widgets = providers_manager.connection_form_widgets
    ours = {k: w for k, w in widgets.items() if k.startswith("extra__connectwise__")}
    assert ours, "no connectwise form fields"
    # the Private key is the standard password field (masked by Airflow); no extra field is sensitive
    assert not any(w.is_sensitive for w in ours.values())


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
