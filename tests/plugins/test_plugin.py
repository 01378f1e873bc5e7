"""The plugin as Airflow sees it: registered by the provider, loaded exactly once, cheap to load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_connectwise.get_provider_info import get_provider_info
from airflow_provider_connectwise.plugins import URL_PREFIX, ConnectWisePlugin
from airflow_provider_connectwise.plugins.asgi import LazyApp

STATIC = Path(__file__).resolve().parents[2] / "airflow_provider_connectwise" / "plugins" / "static"

LOAD_PLUGINS = """
import json, sys
from airflow import plugins_manager as pm
plugins, errors = pm._get_plugins()
apps, _ = pm.get_fastapi_plugins()
views, _ = pm._get_ui_plugins()
print(json.dumps({
    "plugins": [[p.name, str(p.source)] for p in plugins],
    "errors": errors,
    "apps": [a["url_prefix"] for a in apps],
    "views": [v["url_route"] for v in views],
    "app_built": "airflow_provider_connectwise.plugins.app" in sys.modules,
    "fastapi_app_imported": "airflow_provider_connectwise.plugins.routes" in sys.modules,
}))
"""


def load_plugins_in_a_fresh_airflow(tmp_path: Path, **config: str) -> dict:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(tmp_path / "plugins"),
        **{f"AIRFLOW__CORE__{k.upper()}": v for k, v in config.items()},
    }
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", LOAD_PLUGINS],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("lazy_discover_providers", "source"),
    [
        pytest.param("True", "airflow-provider-connectwise==", id="default-entry-point"),
        pytest.param("False", "None", id="eager-providers-metadata"),
    ],
)
def test_airflow_loads_the_plugin_exactly_once(tmp_path, lazy_discover_providers, source):
    loaded = load_plugins_in_a_fresh_airflow(tmp_path, lazy_discover_providers=lazy_discover_providers)
    ours = [p for p in loaded["plugins"] if p[0] == "connectwise"]
    assert len(ours) == 1, loaded
    assert ours[0][1].startswith(source)
    assert loaded["errors"] == {}
    assert loaded["apps"].count(URL_PREFIX) == 1
    assert loaded["views"].count("connectwise") == 1
    # loading the plugin (every task process does) builds no web app
    assert not loaded["app_built"] and not loaded["fastapi_app_imported"]


def test_the_provider_metadata_names_the_plugin():
    assert get_provider_info()["plugins"] == [
        {"name": "connectwise", "plugin-class": "airflow_provider_connectwise.plugins.ConnectWisePlugin"}
    ]


def test_the_entry_point_steps_aside_when_airflow_reads_the_provider_metadata(monkeypatch):
    from airflow import settings

    import airflow_provider_connectwise.plugins as plugins

    monkeypatch.setattr(settings, "LAZY_LOAD_PROVIDERS", True)
    assert plugins.entry_point_plugin is ConnectWisePlugin
    monkeypatch.setattr(settings, "LAZY_LOAD_PROVIDERS", False)
    assert plugins.entry_point_plugin is None


def test_the_navigation_entry_and_the_app():
    (view,) = ConnectWisePlugin.external_views
    assert view["name"] == "ConnectWise"
    assert view["url_route"] == "connectwise"
    assert view["destination"] == "nav" and view["nav_top_level"] is True
    # relative: the UI resolves it against its base URL, so an [api] base_url path prefix works
    assert not view["href"].startswith("/") and view["href"].rstrip("/") == URL_PREFIX.strip("/")
    for key in ("icon", "icon_dark_mode"):
        assert (STATIC / Path(view[key]).name).is_file()
    (app,) = ConnectWisePlugin.fastapi_apps
    assert app["url_prefix"] == URL_PREFIX
    from airflow.api_fastapi.app import RESERVED_URL_PREFIXES

    assert not any(URL_PREFIX.startswith(p) for p in RESERVED_URL_PREFIXES)


def test_airflows_plugins_api_lists_the_page(make_client):
    response = make_client("ADMIN").get("/api/v2/plugins")
    assert response.status_code == 200
    (ours,) = [p for p in response.json()["plugins"] if p["name"] == "connectwise"]
    assert [v["name"] for v in ours["external_views"]] == ["ConnectWise"]
    assert [a["url_prefix"] for a in ours["fastapi_apps"]] == [URL_PREFIX]


def test_the_lazy_app_is_built_once(monkeypatch):
    import types

    built = []
    module = types.ModuleType("cw_fake_app")

    async def asgi(scope, receive, send):
        built.append("called")

    def factory():
        built.append("built")
        return asgi

    module.factory = factory
    monkeypatch.setitem(sys.modules, "cw_fake_app", module)
    lazy = LazyApp("cw_fake_app:factory")
    assert built == []

    import asyncio

    asyncio.run(lazy({}, None, None))
    asyncio.run(lazy({}, None, None))
    assert built == ["built", "called", "called"]
