from __future__ import annotations

import json

import pytest

from airflow_provider_connectwise.core.type_rules import (
    ResolvedTypeRule,
    choose_configuration_type,
    matching_rule,
)

DEFAULT = 10


def rule(op: str, value, *, fact: str = "hardware_model", type_id: int = 11, case_sensitive: bool = False):
    return ResolvedTypeRule(
        type_id=type_id,
        fact=fact,
        op=op,
        value=tuple(value) if isinstance(value, list) else value,
        case_sensitive=case_sensitive,
    )


@pytest.mark.parametrize(
    ("op", "value", "fact_value", "case_sensitive", "matches"),
    [
        ("equals", "Macmini9,1", "Macmini9,1", False, True),
        ("equals", "macmini9,1", "Macmini9,1", False, True),
        ("equals", "macmini9,1", "Macmini9,1", True, False),
        ("equals", "Macmini", "Macmini9,1", False, False),
        ("equals", "macOS", "  macOS ", False, True),  # trimmed
        ("one_of", ["iMac21,1", "Macmini9,1"], "MACMINI9,1", False, True),
        ("one_of", ["iMac21,1", "Macmini9,1"], "MacBookPro16,1", False, False),
        ("one_of", ["Macmini9,1"], "MACMINI9,1", True, False),
        ("contains", "book", "MacBookPro16,1", False, True),
        ("contains", "book", "MacBookPro16,1", True, False),
        ("contains", "Book", "MacBookPro16,1", True, True),
        ("prefix", "macmini", "Macmini9,1", False, True),
        ("prefix", "mini", "Macmini9,1", False, False),
        ("regex", r"^Mac(mini|Pro)\d", "macmini9,1", False, True),
        ("regex", r"^Mac(mini|Pro)\d", "macmini9,1", True, False),
        ("regex", r"mini", "Macmini9,1", False, True),  # search, not fullmatch
        ("regex", r"^mini", "Macmini9,1", False, False),
        ("equals", "Straße", "STRASSE", False, True),  # casefold, not lower
        ("equals", "14", 14, False, True),  # numbers compare as text
        ("equals", "true", True, False, True),  # booleans read true/false
        ("equals", "10.0.0.7", ["10.0.0.7", "fe80::1"], False, True),  # any entry of a list fact
        ("equals", "Café", "Cafe\u0301", False, True),  # NFC on both sides
    ],
)
def test_rule_ops(op, value, fact_value, case_sensitive, matches):
    assert rule(op, value, case_sensitive=case_sensitive).matches({"hardware_model": fact_value}) is matches


@pytest.mark.parametrize("facts", [{}, {"hardware_model": None}, {"hardware_model": {"nested": 1}}])
def test_missing_null_or_odd_facts_match_nothing(facts):
    for op, value in (("equals", ""), ("contains", ""), ("prefix", ""), ("regex", ".*"), ("one_of", [""])):
        assert rule(op, value).matches(facts) is False


def test_first_match_wins_else_default():
    rules = [
        rule("prefix", "Macmini", type_id=11),
        rule("contains", "mini", type_id=12),
        rule("contains", "Book", type_id=14),
    ]
    assert choose_configuration_type({"hardware_model": "Macmini9,1"}, rules, DEFAULT) == 11
    assert choose_configuration_type({"hardware_model": "MacBookAir10,1"}, rules, DEFAULT) == 14
    assert choose_configuration_type({"hardware_model": "iMac21,1"}, rules, DEFAULT) == DEFAULT
    assert choose_configuration_type({}, rules, DEFAULT) == DEFAULT
    assert choose_configuration_type({"hardware_model": "Macmini9,1"}, [], DEFAULT) == DEFAULT
    assert matching_rule({"hardware_model": "Mini PC"}, rules) == 1


def test_rules_read_different_facts():
    rules = [rule("equals", "server", fact="role", type_id=11), rule("prefix", "Mac", type_id=14)]
    assert choose_configuration_type({"role": "Server", "hardware_model": "MacBook"}, rules, DEFAULT) == 11
    assert choose_configuration_type({"role": "desk", "hardware_model": "MacBook"}, rules, DEFAULT) == 14


def test_regex_reads_a_bounded_prefix_of_the_fact():
    # The match is searched in the first 4096 characters only: an outside value cannot be made
    # arbitrarily long for a careless pattern.
    assert rule("regex", "needle").matches({"hardware_model": "x" * 5000 + "needle"}) is False
    assert rule("regex", "needle").matches({"hardware_model": "x" * 4000 + "needle"}) is True


def test_json_round_trip_and_describe():
    original = ResolvedTypeRule(
        type_id=14, type_name="Laptop", fact="hardware_model", op="one_of", value=("a", "b")
    )
    assert ResolvedTypeRule.from_dict(json.loads(json.dumps(original.to_dict()))) == original
    assert original.describe() == "hardware_model one_of ['a', 'b'] -> Laptop"


@pytest.mark.parametrize(
    ("make", "matches"),
    [
        (lambda: 10**5000, False),  # str() refuses it: no match instead of ValueError
        (lambda: [[["Macmini"]]], False),  # nested lists match nothing
        (lambda: {"value": "Macmini"}, False),
        (lambda: "Macmini" + "x" * 1_000_000, True),  # a long fact can still match a prefix
        (lambda: "Mac\ud800mini", False),
        (lambda: float("nan"), False),
        (lambda: [None, 3, "Macmini9,1"], True),
    ],
    ids=["huge-int", "nested-list", "object", "1MB", "lone-surrogate", "nan", "mixed-list"],
)
def test_any_fact_value_evaluates_without_raising(make, matches):
    rules = [rule(op, "Macmini") for op in ("equals", "contains", "regex")] + [rule("prefix", "Macmini")]
    found = matching_rule({"hardware_model": make()}, rules)
    assert (found is not None) is matches
