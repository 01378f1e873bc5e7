"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

Airflow 3.2+ builds connection forms from ``conn-fields`` and ``ui-field-behaviour`` here,
without importing the hooks (apache/airflow#60410; the floor in ``pyproject.toml``), so this
module must stay import-cheap. It also declares the provider's settings (``[connectwise]``).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_connectwise import __version__

_OPTIONAL_STRING = {"type": ["string", "null"]}


def _option(description: str, kind: str, default: str) -> dict[str, Any]:
    return {
        "description": description,
        "version_added": "0.1.0",
        "type": kind,
        "example": None,
        "default": default,
    }


# Read by airflow_provider_connectwise.budget (kept in step with its DEFAULTS by a test).
_BUDGET_CONFIG = {
    "description": "One ConnectWise rate budget per account, shared by every task through an Airflow pool.",
    "options": {
        "requests_per_minute": _option(
            "The ConnectWise account's budget, all DAGs and workers together (ConnectWise throttles "
            "above about 1,000 a minute).",
            "float",
            "900",
        ),
        "pool": _option(
            "The Airflow pool every ConnectWise task runs in (create it).", "string", "connectwise"
        ),
        "pool_slots": _option(
            "The size of that pool: keep it equal to the pool's slots (tasks cannot read them). Each "
            "running task spaces its requests at (requests_per_minute - trigger_requests_per_minute) "
            "/ pool_slots.",
            "integer",
            "4",
        ),
        "trigger_requests_per_minute": _option(
            "Reserved for deferred sensors, which poll from the triggerer outside every pool.",
            "float",
            "60",
        ),
        "triggerers": _option("How many triggerer processes run (they split the reserve).", "integer", "1"),
    },
}


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata in the shape of Airflow's ``provider_info.schema.json``."""
    return {
        "package-name": "airflow-provider-connectwise",
        "name": "ConnectWise",
        "description": "Bind MDM (Addigy) devices to ConnectWise PSA configurations and "
        "turn monitoring alerts into ConnectWise tickets.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "ConnectWise PSA",
                "external-doc-url": "https://developer.connectwise.com/Products/ConnectWise_PSA",
                "tags": ["service"],
            },
            {
                "integration-name": "Addigy",
                "external-doc-url": "https://api.addigy.com/",
                "tags": ["service"],
            },
        ],
        "hooks": [
            {
                "integration-name": "ConnectWise PSA",
                "python-modules": ["airflow_provider_connectwise.hooks.connectwise"],
            },
            {
                "integration-name": "Addigy",
                "python-modules": ["airflow_provider_connectwise.hooks.addigy"],
            },
        ],
        "operators": [
            {
                "integration-name": "ConnectWise PSA",
                "python-modules": [
                    "airflow_provider_connectwise.operators.settings",
                    "airflow_provider_connectwise.operators.binding",
                    "airflow_provider_connectwise.operators.tickets",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "ConnectWise PSA",
                "python-modules": [
                    "airflow_provider_connectwise.sensors.binding",
                    "airflow_provider_connectwise.sensors.tickets",
                ],
            }
        ],
        "triggers": [
            {
                "integration-name": "ConnectWise PSA",
                "python-modules": ["airflow_provider_connectwise.triggers.tickets"],
            }
        ],
        "extra-links": ["airflow_provider_connectwise.links.ConnectWiseTicketLink"],
        "config": {"connectwise": _BUDGET_CONFIG},
        "notifications": ["airflow_provider_connectwise.notifications.connectwise.ConnectWiseNotifier"],
        "plugins": [
            {
                "name": "connectwise",
                "plugin-class": "airflow_provider_connectwise.plugins.ConnectWisePlugin",
            }
        ],
        "connection-types": [
            {
                "connection-type": "connectwise",
                "hook-class-name": "airflow_provider_connectwise.hooks.connectwise.ConnectWiseHook",
                "hook-name": "ConnectWise PSA",
                "conn-fields": {
                    # "api_key" in the name: Airflow masks extra fields by name (REST API, logs);
                    # "format": "password" masks it in the form
                    "public_api_key": {
                        "label": "Public key",
                        "description": "My Account > API Keys > + (the public half of the pair).",
                        "schema": {"type": "string", "minLength": 1, "format": "password"},
                    },
                    "client_id": {
                        "label": "Client ID",
                        "description": "The clientId GUID from developer.connectwise.com "
                        "(ConnectWise refuses requests without one).",
                        "schema": {"type": "string", "minLength": 1},
                    },
                    "codebase": {
                        "label": "Codebase (optional)",
                        "description": "Leave empty to discover it from /login/companyinfo; "
                        "e.g. v2025_1/ to pin it.",
                        "schema": _OPTIONAL_STRING,
                    },
                    "timeout": {
                        "label": "Request timeout in seconds (optional)",
                        "schema": {"type": ["number", "null"], "default": 30, "minimum": 1},
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["port", "schema", "extra"],
                    "relabeling": {
                        "login": "ConnectWise Company ID",
                        "password": "Private key",
                        "host": "Site URL",
                    },
                    "placeholders": {
                        "login": "the Company you type when you sign in to ConnectWise",
                        "host": "na.myconnectwise.net",
                        "public_api_key": "public key from My Account > API Keys",
                        "client_id": "00000000-0000-0000-0000-000000000000",
                    },
                },
            },
            {
                "connection-type": "addigy",
                "hook-class-name": "airflow_provider_connectwise.hooks.addigy.AddigyHook",
                "hook-name": "Addigy",
                "conn-fields": {
                    "timeout": {
                        "label": "Request timeout in seconds (optional)",
                        "schema": {"type": ["number", "null"], "default": 30, "minimum": 1},
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["port", "schema", "login", "extra"],
                    "relabeling": {"password": "API key", "host": "API host"},
                    "placeholders": {"host": "api.addigy.com"},
                },
            },
        ],
    }
