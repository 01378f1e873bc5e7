"""The stored links (Variable ``connectwise_policy_links``): any JSON in, good links and named errors out."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_connectwise.flows.link_store import (
    VARIABLE_KEY,
    StoredLink,
    dump_links,
    parse_links,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
entries = st.fixed_dictionaries(
    {},
    optional={
        "company_id": json_values | st.integers(1, 999),
        "site_id": json_values | st.integers(1, 99),
        "mode": json_values | st.sampled_from(["all", "Inventory", "tickets", "paused"]),
        "linked_by": json_values,
    },
)


@given(st.dictionaries(st.text(min_size=1, max_size=8), entries | json_values, max_size=5) | json_values)
def test_any_value_gives_good_links_or_errors_naming_the_policy_and_field(raw):
    links, errors = parse_links(json.dumps(raw))
    for policy_id, link in links.items():
        assert link.policy_id == policy_id and link.company_id > 0
        assert link.mode in ("all", "inventory", "tickets", "paused")
        assert link.site_id is None or link.site_id > 0
    for policy_id, error in errors.items():
        assert VARIABLE_KEY in error
        if policy_id:
            assert repr(policy_id) in error
    # what it kept reads back the same
    assert parse_links(dump_links(links)) == (links, {})


def test_errors_name_the_field():
    links, errors = parse_links(
        {"p1": {"company_id": 5, "mode": "sometimes"}, "p2": {"company_id": True}, "p3": {"company_id": 7}}
    )
    assert list(links) == ["p3"] and links["p3"] == StoredLink("p3", 7)
    assert "mode 'sometimes' is not one of" in errors["p1"]
    assert "company_id must be a positive integer id, got True" in errors["p2"]
    assert "is not JSON" in parse_links("{nope")[1][""]
    assert parse_links(None) == ({}, {}) == parse_links("  ")
