"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

Airflow 3.2+ builds connection forms from ``conn-fields`` and ``ui-field-behaviour`` here,
without importing the hooks, so this module must stay import-cheap.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_connectwise import __version__

_OPTIONAL_STRING = {"type": ["string", "null"]}


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
                    "public_key": {
                        "label": "Public key",
                        "description": "My Account > API Keys > + (the public half of the pair).",
                        "schema": {"type": "string", "minLength": 1},
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
                        "public_key": "public key from My Account > API Keys",
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
