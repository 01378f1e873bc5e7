"""The domain core reads like a library: importing it pulls in neither Airflow nor an HTTP client."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import airflow_provider_connectwise.core as core

#: every module of the core, found on disk: a new module is checked without editing this test
MODULES = sorted(
    info.name.removeprefix(core.__name__ + ".")
    for info in pkgutil.walk_packages(core.__path__, core.__name__ + ".")
)
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


def test_every_core_module_is_checked():
    assert {"settings.resolution", "planning.company", "mapping.device", "binding_report", "text"} <= set(
        MODULES
    )
