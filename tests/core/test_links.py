"""Link modes and auto-mapping policies to companies by name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_connectwise.core.links import (
    LEGAL_SUFFIXES,
    MODES,
    normalise_name,
    parse_mode,
    policy_allows,
    propose_links,
)


@pytest.mark.parametrize(
    ("mode", "tickets", "inventory"),
    [
        ("all", True, True),
        (None, True, True),
        ("", True, True),
        (" Inventory ", False, True),
        ("tickets", True, False),
        ("paused", False, False),
        ("bogus", False, False),
        (3, False, False),
        ({"mode": "all"}, False, False),
    ],
)
def test_policy_allows(mode, tickets, inventory):
    assert policy_allows(mode, "tickets") is tickets
    assert policy_allows(mode, "inventory") is inventory


def test_policy_allows_refuses_an_unknown_flow():
    with pytest.raises(ValueError, match="'alerts'"):
        policy_allows("all", "alerts")  # type: ignore[arg-type]


@given(st.one_of(st.none(), st.integers(), st.text(), st.lists(st.integers()), st.booleans()))
def test_parse_mode_returns_a_mode_or_names_the_value(value):
    valid = isinstance(value, str) and value.strip().lower() in (*MODES, "")
    if valid or value is None:
        assert parse_mode(value) in MODES
    else:
        with pytest.raises(ValueError, match="is not one of all, inventory, tickets, paused"):
            parse_mode(value)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Corp.", "ACME, Inc"),
        ("Globex GmbH", "globex"),
        ("Initech L.L.C.", "Initech"),
        ("Müller & Söhne", "muller and sohne"),
        ("The Hooli Company", "Hooli"),
        ("Umbrella Ltd", "umbrella  limited"),
    ],
)
def test_names_that_mean_one_company_normalise_alike(a, b):
    assert normalise_name(a) == normalise_name(b)


def test_different_names_stay_different():
    assert normalise_name("Acme Labs") != normalise_name("Acme")
    assert normalise_name("Company") == "company"  # only a suffix: kept


_names = st.text(st.characters(codec="utf-8"), max_size=40)


@given(_names)
def test_normalising_is_idempotent_and_case_blind(name):
    once = normalise_name(name)
    assert normalise_name(once) == once
    assert normalise_name(name.upper()) == normalise_name(name.lower()) or not name.isascii()


@given(_names, st.sampled_from(sorted(LEGAL_SUFFIXES)), st.sampled_from(["", ",", "."]))
def test_a_legal_suffix_never_changes_the_match(name, suffix, punctuation):
    base = normalise_name(name)
    if base and base.split()[-1] not in LEGAL_SUFFIXES:
        assert normalise_name(f"{name}{punctuation} {suffix.upper()}") == base


COMPANIES = [
    {"id": 250, "identifier": "AcmeCorp", "name": "Acme Corporation"},
    {"id": 251, "identifier": "Globex", "name": "Globex GmbH"},
    {"id": 252, "identifier": "Initech", "name": "Initech LLC"},
    {"id": 253, "identifier": "InitechEU", "name": "Initech Ltd"},
    {"id": 254, "identifier": "LabsWest", "name": "West Labs"},
    {"id": "x", "identifier": "Bad", "name": "Bad id"},
    {"id": True, "identifier": "Bool", "name": "Bool id"},
]


def test_proposals_confident_first_ambiguous_with_candidates():
    policies = [
        {"policy_id": "p1", "name": "Initech"},
        {"policy_id": "p2", "name": "ACME corp"},
        {"policy_id": "p3", "name": "Labs West"},
        {"policy_id": "p4", "name": "Nobody"},
        {"policy_id": "p5", "name": "globex"},
        {"policy_id": "p6", "name": "Bad id"},
        {"policy_id": "", "name": "Globex"},
    ]
    proposals = propose_links(policies, COMPANIES)
    assert [(p.policy_id, p.confident) for p in proposals] == [
        ("p2", True),
        ("p5", True),
        ("p1", False),
        ("p3", False),
    ]
    assert proposals[0].company.company_id == 250
    assert [c.company_id for c in proposals[2].candidates] == [252, 253]
    assert proposals[2].company is None
    # same words in another order: a candidate, never confident
    assert [c.company_id for c in proposals[3].candidates] == [254]


@given(
    st.lists(
        st.fixed_dictionaries({"policy_id": st.text(min_size=1, max_size=5), "name": _names}), max_size=8
    ),
    st.lists(
        st.fixed_dictionaries(
            {
                "id": st.one_of(st.integers(-2, 20), st.text(max_size=3), st.none()),
                "identifier": _names,
                "name": _names,
            }
        ),
        max_size=8,
    ),
)
def test_proposals_only_name_matching_companies(policies, companies):
    proposals = propose_links(policies, companies)
    flags = [p.confident for p in proposals]
    assert flags == sorted(flags, reverse=True)  # confident first
    for proposal in proposals:
        assert proposal.candidates
        key = set(normalise_name(proposal.policy_name).split())
        for candidate in proposal.candidates:
            assert candidate.company_id > 0
            assert key in (
                set(normalise_name(candidate.name).split()),
                set(normalise_name(candidate.identifier).split()),
            )
        if proposal.confident:
            assert len(proposal.candidates) == 1
