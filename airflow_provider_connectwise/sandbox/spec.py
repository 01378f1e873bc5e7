"""The official ConnectWise OpenAPI subset, loaded once, and facts derived from it.

Plain Python (no HTTP): the models read maximum lengths and field types from here, and
``contract.py`` builds its validator from ``connectwise_spec()``.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("spec") / "connectwise-manage-openapi-2025.1-subset.json"
_MAX_LENGTH = re.compile(r"Max length:\s*(\d+)\s*;")


@lru_cache(maxsize=1)
def raw_spec() -> dict[str, Any]:
    """The document exactly as shipped (do not mutate)."""
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def connectwise_spec() -> dict[str, Any]:
    """The document with the known mistypes corrected (the JSON file itself is never edited).

    * ``PatchOperation.value`` is typed ``object`` but takes any JSON value (strings, numbers, booleans,
      references, null).
    * ``ConfigurationQuestion.answer`` and ``CustomFieldValue.value`` are typed ``object`` but are
      strings/numbers/booleans in practice.
    """
    spec = copy.deepcopy(raw_spec())
    schemas = spec["components"]["schemas"]
    any_value = {"nullable": True}
    schemas["PatchOperation"]["properties"]["value"] = dict(any_value)
    schemas["ConfigurationQuestion"]["properties"]["answer"] = dict(any_value)
    schemas["CustomFieldValue"]["properties"]["value"] = dict(any_value)
    spec["servers"] = [{"url": "/"}]
    return spec


def schema(name: str) -> dict[str, Any]:
    return connectwise_spec()["components"]["schemas"][name]


def ref_name(prop: dict[str, Any]) -> str | None:
    ref = prop.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


@cache
def max_lengths(schema_name: str) -> dict[str, int]:
    """Every ``Max length: N;`` in the schema's property descriptions, by field name."""
    out: dict[str, int] = {}
    for name, prop in schema(schema_name).get("properties", {}).items():
        match = _MAX_LENGTH.search(prop.get("description") or "")
        if match:
            out[name] = int(match.group(1))
    return out


def properties(schema_name: str) -> dict[str, dict[str, Any]]:
    return schema(schema_name).get("properties", {})


def required(schema_name: str) -> list[str]:
    return list(schema(schema_name).get("required", []))
