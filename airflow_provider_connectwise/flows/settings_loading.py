"""Read the settings document from where the user keeps it: a dict, JSON or YAML text, or a file.

:func:`load_settings` turns any of these into an
:class:`~airflow_provider_connectwise.core.settings.IntegrationSettings` (the core checks the
parsed data: :func:`~airflow_provider_connectwise.core.settings.as_settings`). A key repeated in
a JSON or YAML mapping is refused (the last one would silently win otherwise), and so is a YAML
key that is not a plain name; every failure is a :class:`SettingsError`, so the switch fails fast
instead of being retried. Nothing here needs Airflow or a hook.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from airflow_provider_connectwise.core.settings import IntegrationSettings, as_settings
from airflow_provider_connectwise.core.settings.problems import document_problem

__all__ = ["load_settings"]


def load_settings(
    source: IntegrationSettings | Mapping[str, Any] | str | os.PathLike[str],
) -> IntegrationSettings:
    """Load and check the settings document (its shape only; ``resolve_settings`` does the rest).

    :param source: the document as a dict, as JSON or YAML text (a string holding a line break or
        a ``key: value``, unless it names a ``.json``/``.yaml``/``.yml`` file), or the path of such a
        file; an :class:`IntegrationSettings` is returned as is.
    :raises SettingsError: every problem found (unknown keys, wrong types, bad rules...).
    """
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return as_settings(_parse_json(source, "the settings text"))
    if isinstance(source, str) and _is_text(source):
        return as_settings(_parse_yaml(source, "the settings text"))
    if isinstance(source, (str, os.PathLike)):
        return as_settings(_read(source))
    return as_settings(source)


def _is_text(source: str) -> bool:
    """Whether a string is the document itself (JSON or YAML text) rather than a file's path."""
    stripped = source.strip()
    if stripped.startswith("{") or "\n" in stripped:
        return True
    return ":" in stripped and not stripped.lower().endswith((".json", ".yaml", ".yml"))


def _read(source: str | os.PathLike[str]) -> Any:
    path = Path(source)
    where = f"settings file {str(path)!r}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise document_problem(f"cannot read {where}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise document_problem(f"{where} is not UTF-8 text") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _parse_json(text, where)
    if suffix in (".yaml", ".yml"):
        return _parse_yaml(text, where)
    raise document_problem(f"{where}: expected a .json, .yaml or .yml file")


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as exc:
        raise document_problem(f"{where} is not valid JSON: {exc}") from None
    except ValueError as exc:
        raise document_problem(f"{where}: {exc}") from None


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} appears twice")
        out[key] = value
    return out


def _parse_yaml(text: str, where: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise document_problem(f"{where} is not valid YAML: {exc}") from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that repeats a key or whose key is not a plain name."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be a plain name, not {type(key).__name__}", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
