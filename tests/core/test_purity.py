"""The domain core reads like a library: importing it pulls in neither Airflow nor an HTTP client."""

from __future__ import annotations

import json
import subprocess
import sys

MODULES = [
    "catalogue",
    "settings",
    "settings.document",
    "settings.problems",
    "settings.resolved",
    "settings.resolution",
    "type_rules",
    "mapping",
    "planning",
    "mapping.fields",
    "mapping.values",
    "mapping.link",
    "mapping.device",
    "planning.records",
    "planning.configurations",
    "planning.devices",
    "planning.matching",
    "planning.deactivation",
    "planning.company",
    "planning.replan",
    "planning.batches",
    "planning.render",
    "catalogue.records",
    "catalogue.readers",
    "catalogue.catalogue",
    "catalogue.render",
    "catalogue.template",
    "apply",
    "binding",
    "site",
    "conditions",
    "tickets",
    "links",
]
FORBIDDEN = {"airflow", "requests", "httpx", "urllib3", "aiohttp", "tenacity"}


def test_core_imports_no_airflow_and_no_http_library():
    code = (
        "import importlib, json, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module('airflow_provider_connectwise.core.' + name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    # A fresh interpreter: this test session may already have imported Airflow for other tests.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert FORBIDDEN.isdisjoint(json.loads(out))
