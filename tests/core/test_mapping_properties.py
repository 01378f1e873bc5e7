"""Properties of the mapping over arbitrary JSON facts: one device's values never escape it.

For any facts -- bare values or Addigy's ``{value, type, error_msg}`` envelopes, of every JSON type
(huge and negative numbers, NaN and infinities, control characters, lone surrogates, long strings,
nested lists and objects) -- ``map_device`` returns a mapped device or raises
``DeviceMappingError``; every field it writes is printable text within ConnectWise's maximum and
survives JSON; the agent id is never altered; and the type rules evaluate on the same facts
without raising; planning (which also reads the record's policy ids) plans one action per record.
The profiles are seeded and bounded (a few hundred examples, a few seconds).
"""

from __future__ import annotations

import functools
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_connectwise.core import printable
from airflow_provider_connectwise.core.mapping import (
    DEFAULT_FIELD_MAPPING,
    MAX_LENGTHS,
    DeviceMappingError,
    map_device,
    utf16_length,
)
from airflow_provider_connectwise.core.planning import plan_company
from airflow_provider_connectwise.core.type_rules import RULE_OPS, ResolvedTypeRule, matching_rule

from .helpers import ACME, resolved

BOUNDED = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text that stresses cleaning: control characters, lone surrogates, bidi overrides, separators.
_HOSTILE_CHARS = st.sampled_from(
    ["\x00", "\x1b", "\n", "\t", "\x1c", "\u2028", "\u202e", "\ufeff", "\ud800", "\udfff", "😀", "é", " "]
)
_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.one_of(_HOSTILE_CHARS, st.characters()), max_size=60),
    st.sampled_from(
        ["aa:bb:cc:dd:ee:ff", "00:00:00:00:00:00", "10.0.0.1, 10.0.0.2", "fe80::1%en0", "2.3 GHz", "16384 MB"]
    ),
    st.integers(min_value=0, max_value=400).map(lambda n: "x" * n),
    st.integers(min_value=1, max_value=60).map(lambda n: "9" * n + " GB"),
)
_NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.sampled_from([10**40, -(10**40), 0, -1]),
    # More than 4300 digits: str() refuses them (built lazily, hypothesis reprs sampled values).
    st.integers(min_value=4301, max_value=5000).map(lambda n: 10**n),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, float("nan"), float("inf"), float("-inf"), 1e308, 5e-324]),
)
_SCALARS = st.one_of(st.none(), st.booleans(), _NUMBERS, _TEXT)
JSON = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_ENVELOPE = st.fixed_dictionaries(
    {"value": JSON},
    optional={"type": st.sampled_from(["string", "number", "boolean", "list", "date", 7]), "error_msg": JSON},
)
_FACT = st.one_of(JSON, _ENVELOPE)
_IDENTIFIERS = st.sampled_from([*DEFAULT_FIELD_MAPPING.values(), "hardware_model", "policy_ids", "online"])
FACTS = st.one_of(st.dictionaries(_IDENTIFIERS, _FACT, max_size=12), JSON)
AGENT_IDS = st.one_of(
    st.uuids().map(str),
    st.text(max_size=110),
    JSON,
)


@functools.cache
def _settings():
    return resolved()


def _deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def check(record: object) -> None:
    try:
        mapped = map_device(record)  # type: ignore[arg-type]
    except DeviceMappingError as exc:
        error = str(exc)
    else:
        error = None
    if error is not None:
        assert printable(error) == error
        return
    assert isinstance(record, dict)
    assert mapped.agentid == record["agentid"].strip()
    assert mapped.fields["deviceIdentifier"] == mapped.agentid
    for name, value in mapped.fields.items():
        assert isinstance(value, str) and value, name
        assert utf16_length(value) <= MAX_LENGTHS[name], (name, value)
        assert printable(value) == value, (name, value)
    assert json.loads(json.dumps(mapped.fields)) == mapped.fields
    for warning in mapped.warnings:
        assert isinstance(warning, str) and printable(warning) == warning
        assert len(warning) <= 400, warning
        assert "could not be read" not in warning, warning  # the last-resort net was never needed
    for op in RULE_OPS:
        value = ("x", "MacBook") if op == "one_of" else "^Mac" if op == "regex" else "Mac"
        rules = [ResolvedTypeRule(type_id=1, fact=fact, op=op, value=value) for fact in mapped.facts]
        assert matching_rule(mapped.facts, rules) in (None, *range(len(rules)))


@BOUNDED
@given(agentid=AGENT_IDS, facts=FACTS)
def test_any_facts_map_or_fail_alone_with_bounded_printable_fields(agentid, facts):
    check({"agentid": agentid, "policy_id": "pol-1", "facts": facts})


@BOUNDED
@given(facts=st.dictionaries(_IDENTIFIERS, _FACT, min_size=1, max_size=12))
def test_with_a_valid_agent_id_every_fact_value_still_maps(facts):
    """Facts alone never fail a device: with a usable agent id it is always mapped."""
    agentid = "5f1c0000-0000-4000-8000-000000000001"
    mapped = map_device({"agentid": agentid, "policy_id": "pol-1", "facts": facts})
    assert mapped.agentid == agentid
    check({"agentid": agentid, "policy_id": "pol-1", "facts": facts})


def test_extreme_values_that_a_generator_rarely_reaches():
    megabyte = "A" * 1_000_000
    for value in (megabyte, "\x00" * 100_000, _deep(5000), [megabyte] * 3, {"value": _deep(5000)}, 10**5000):
        facts = {fact: value for fact in DEFAULT_FIELD_MAPPING.values()}
        check({"agentid": "agent-1", "facts": facts})
        check({"agentid": "agent-1", "facts": {k: {"value": value, "error_msg": None} for k in facts}})
        check({"agentid": "agent-1", "facts": {k: {"value": None, "error_msg": value} for k in facts}})


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(agentid=AGENT_IDS, policy_id=JSON, policy_ids=JSON, facts=FACTS)
def test_planning_contains_any_record_to_its_device(agentid, policy_id, policy_ids, facts):
    """Planning reads the record's policy ids too: whatever they hold, one action per record."""
    records = [
        {"agentid": agentid, "policy_id": policy_id, "policy_ids": policy_ids, "facts": facts},
        {
            "agentid": "5f1c0000-0000-4000-8000-000000000002",
            "policy_id": "pol-1",
            "facts": {"device_name": "ok"},
        },
    ]
    plan = plan_company(ACME, records, [], _settings())
    assert [a.action for a in plan.actions][-1] == "create"  # the good device is planned regardless
    assert len(plan.actions) == 2
