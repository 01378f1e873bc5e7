"""Conditional configuration types (seed step 15): the rule model, its syntax check, evaluation.

A rule reads one MDM fact and, when it matches, names the configuration type of a *new*
configuration (an existing configuration's type is never changed). Rules are tried in order; the
first match wins, else the default type (seed step 14) applies.

Decisions:

- ``op`` is one of ``equals``, ``one_of`` (``value`` is a list), ``contains``, ``prefix`` and
  ``regex`` (``re.search``: anchor with ``^``/``$`` to match the whole value). All compare
  case-insensitively (``casefold``) unless ``case_sensitive`` is true.
- Both sides are NFC-normalised and trimmed, so "macOS " equals "macos".
- A missing, ``null`` or errored fact matches nothing. A boolean fact reads ``true``/``false``; a
  list fact (e.g. several IP addresses) matches when any entry matches.
- Rule values may be numbers in the document (YAML reads ``14`` as a number); they are compared as
  text. A boolean value is refused: YAML turns ``yes``/``no`` into booleans, which is never meant.
- Regular expressions run against at most 4096 characters of a fact, so an outside value cannot
  make a careless pattern run for long; a longer fact can only match ``prefix`` (and ``regex``).
  Of a list fact the first 256 entries are looked at. Evaluation never raises, whatever the fact
  holds (objects and nested lists match nothing).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from airflow_provider_connectwise.core.catalogue import NameOrId

__all__ = [
    "RULE_OPS",
    "ResolvedTypeRule",
    "TypeRule",
    "choose_configuration_type",
    "matching_rule",
]

RuleOp = Literal["equals", "one_of", "contains", "prefix", "regex"]
RULE_OPS: tuple[str, ...] = ("equals", "one_of", "contains", "prefix", "regex")

_MAX_MATCHED_LENGTH = 4096
_MAX_LIST_ENTRIES = 256


def _as_rule_text(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean; quote it if you mean the text {str(value).lower()!r}")
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"expected text, got {type(value).__name__}")


class TypeRule(BaseModel):
    """One conditional configuration type, as the user writes it.

    ``{type: "Server", fact: "hardware_model", op: "prefix", value: "Macmini"}``
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: configuration type name or id
    type: NameOrId
    #: MDM fact identifier, e.g. ``hardware_model``
    fact: str
    op: RuleOp
    #: text to compare with; a list of texts for ``one_of``
    value: str | list[str]
    case_sensitive: bool = False

    @field_validator("fact")
    @classmethod
    def _fact_named(cls, fact: str) -> str:
        if not fact.strip():
            raise ValueError("must name an MDM fact identifier, e.g. 'hardware_model'")
        return fact.strip()

    @field_validator("value", mode="before")
    @classmethod
    def _value_text(cls, value: Any) -> str | list[str]:
        if isinstance(value, (list, tuple)):
            return [_as_rule_text(item) for item in value]
        return _as_rule_text(value)

    @model_validator(mode="after")
    def _value_fits_op(self) -> TypeRule:
        if self.op == "one_of":
            if not isinstance(self.value, list) or not self.value:
                raise ValueError("op 'one_of' needs a non-empty list as value")
        elif isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} needs one text value, not a list (use 'one_of' for a list)")
        elif self.op != "regex" and not self.value.strip():
            raise ValueError(f"op {self.op!r} needs a non-empty value")
        # A bad regex is reported by "the switch" (resolve_settings) with every other problem.
        return self

    def pattern_problem(self) -> str | None:
        """Why the ``regex`` value does not compile, or None (only ``regex`` rules have one)."""
        if self.op != "regex" or not isinstance(self.value, str):
            return None
        try:
            _compiled(self.value, self.case_sensitive)
        except re.error as exc:
            return f"invalid regular expression {self.value!r}: {exc}"
        return None


def _fact_text(raw: Any) -> str | None:
    """The text a rule compares a fact value with; ``None`` for what no rule can match."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return raw
    if isinstance(raw, float):
        return str(raw)
    if isinstance(raw, int):
        # str() refuses integers of more than 4300 digits; no rule value is that long anyway.
        return str(raw) if raw.bit_length() < _MAX_MATCHED_LENGTH else None
    return None


def _norm(text: str, case_sensitive: bool) -> str:
    text = unicodedata.normalize("NFC", text).strip()
    return text if case_sensitive else text.casefold()


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    return re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)


@dataclass(frozen=True)
class ResolvedTypeRule:
    """A rule whose type is resolved to an id; what planning evaluates."""

    type_id: int
    fact: str
    op: str
    value: str | tuple[str, ...]
    case_sensitive: bool = False
    #: for logs only
    type_name: str = ""

    def matches(self, facts: Mapping[str, Any]) -> bool:
        """Return whether this rule matches a device's facts (never raises, whatever they hold).

        :param facts: fact identifier -> bare value (``MappedDevice.facts``).
        """
        raw = facts.get(self.fact)
        values = raw[:_MAX_LIST_ENTRIES] if isinstance(raw, (list, tuple)) else [raw]
        return any(self._matches_one(value) for value in values if value is not None)

    def _matches_one(self, raw: Any) -> bool:
        text = _fact_text(raw)
        if text is None:
            return False
        if self.op == "regex":
            pattern = _compiled(str(self.value), self.case_sensitive)
            return pattern.search(unicodedata.normalize("NFC", text[:_MAX_MATCHED_LENGTH])) is not None
        if len(text) > _MAX_MATCHED_LENGTH:
            # Longer than any value a rule is written with: only a prefix can still match.
            text = text[:_MAX_MATCHED_LENGTH]
            if self.op != "prefix":
                return False
        text = _norm(text, self.case_sensitive)
        if self.op == "one_of":
            return text in {_norm(item, self.case_sensitive) for item in self.value}
        value = _norm(str(self.value), self.case_sensitive)
        if self.op == "equals":
            return text == value
        if self.op == "contains":
            return value in text
        if self.op == "prefix":
            return text.startswith(value)
        raise ValueError(f"unknown rule op {self.op!r}")

    def describe(self) -> str:
        """Return the rule as one readable line for logs."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        case = ", case-sensitive" if self.case_sensitive else ""
        return f"{self.fact} {self.op} {value!r}{case} -> {self.type_name or self.type_id}"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form."""
        return {
            "type_id": self.type_id,
            "type_name": self.type_name,
            "fact": self.fact,
            "op": self.op,
            "value": list(self.value) if isinstance(self.value, tuple) else self.value,
            "case_sensitive": self.case_sensitive,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResolvedTypeRule:
        """Rebuild a rule from :meth:`to_dict` output.

        :param data: the dict.
        """
        value = data["value"]
        return cls(
            type_id=int(data["type_id"]),
            type_name=data.get("type_name", ""),
            fact=data["fact"],
            op=data["op"],
            value=tuple(value) if isinstance(value, list) else value,
            case_sensitive=bool(data.get("case_sensitive", False)),
        )


def matching_rule(facts: Mapping[str, Any], rules: Iterable[ResolvedTypeRule]) -> int | None:
    """Return the index of the first rule matching the facts, ``None`` when none does.

    :param facts: fact identifier -> bare value.
    :param rules: the resolved rules, in the user's order.
    """
    for index, rule in enumerate(rules):
        if rule.matches(facts):
            return index
    return None


def choose_configuration_type(
    facts: Mapping[str, Any], rules: Sequence[ResolvedTypeRule], default_type_id: int
) -> int:
    """Return the configuration type id for a new configuration: the first matching rule's, else the default.

    :param facts: fact identifier -> bare value (``MappedDevice.facts``).
    :param rules: the resolved rules, in the user's order.
    :param default_type_id: the default configuration type (seed step 14).
    """
    index = matching_rule(facts, rules)
    return default_type_id if index is None else rules[index].type_id
