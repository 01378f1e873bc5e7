"""The "ConnectWise" page of the Airflow UI: Devices Binding per policy, link-status icons, Retry Pending.

:class:`ConnectWisePlugin` mounts a small FastAPI app under ``/connectwise`` on Airflow's API
server and adds a "ConnectWise" entry to the UI's navigation that shows it in the UI's frame.

How Airflow loads it (3.3): every process that loads plugins reads the ``airflow.plugins``
entry point; the provider metadata's ``plugins`` entry is read only when
``[core] lazy_discover_providers`` is false. Both are declared (like Airflow's own providers),
and the entry point steps aside in that second case, so the plugin is loaded exactly once
either way.

Importing this module is cheap (Airflow loads plugins in every task process): the FastAPI app
is built on its first request (:class:`~airflow_provider_connectwise.plugins.asgi.LazyApp`).
"""

from __future__ import annotations

from typing import Any

try:
    from airflow.sdk.plugins_manager import AirflowPlugin
except ImportError:  # pragma: no cover - Airflow without the task SDK's plugins manager
    # The same class under Airflow's older path; mypy sees two distinct classes.
    from airflow.plugins_manager import AirflowPlugin  # type: ignore[assignment]

from airflow_provider_connectwise.plugins.asgi import LazyApp

__all__ = ["URL_PREFIX", "ConnectWisePlugin"]

#: Where the page is served on the API server (``[api] base_url`` comes in front).
URL_PREFIX = "/connectwise"
#: The UI route of the page: ``/plugin/connectwise``.
UI_ROUTE = "connectwise"


class ConnectWisePlugin(AirflowPlugin):
    """The ConnectWise page: a FastAPI app and its navigation entry."""

    name = "connectwise"
    fastapi_apps = [
        {
            "app": LazyApp("airflow_provider_connectwise.plugins.app:create_app"),
            "url_prefix": URL_PREFIX,
            "name": "ConnectWise Devices Binding",
        }
    ]
    external_views = [
        {
            "name": "ConnectWise",
            # relative: resolved against the UI's base URL, so [api] base_url prefixes work
            "href": "connectwise/",
            "url_route": UI_ROUTE,
            "destination": "nav",
            "nav_top_level": True,
            "icon": "connectwise/static/connectwise-nav.svg",
            "icon_dark_mode": "connectwise/static/connectwise-nav-dark.svg",
        }
    ]


def _provider_metadata_loads_plugins() -> bool:
    """Whether Airflow also loads the plugins listed in the providers' metadata."""
    try:
        from airflow import settings
    except ImportError:  # pragma: no cover
        return False
    return not getattr(settings, "LAZY_LOAD_PROVIDERS", True)


def __getattr__(name: str) -> Any:
    # The ``airflow.plugins`` entry point names ``entry_point_plugin``: the class, or ``None``
    # (which Airflow skips silently) when the provider metadata already loads it.
    if name == "entry_point_plugin":
        return None if _provider_metadata_loads_plugins() else ConnectWisePlugin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
