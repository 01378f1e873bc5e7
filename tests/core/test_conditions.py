from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_connectwise.core.conditions import (
    Field,
    SafeQuery,
    UnsafeConditionValue,
    chunked_in,
    joined,
    render_value,
    value_at,
)


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        (12, "12"),
        (-3, "-3"),
        (2.5, "2.5"),
        (True, "True"),
        (False, "False"),
        (None, "null"),
        ("Ann's MacBook", '"Ann\'s MacBook"'),
        ("C02XK1ZZJG5J", '"C02XK1ZZJG5J"'),
        ("Zoë – Ünïcode", '"Zoë – Ünïcode"'),
        (dt.datetime(2025, 1, 31, 10, 0, tzinfo=dt.timezone.utc), "[2025-01-31T10:00:00Z]"),
        (
            dt.datetime(2025, 1, 31, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "[2025-01-31T10:00:00Z]",
        ),
    ],
)
def test_render_value(value, rendered):
    assert render_value(value) == rendered


@pytest.mark.parametrize(
    "value",
    [
        'He said "hi"',
        "back\\slash",
        "line\nbreak",
        "tab\there",
        "nul\x00",
        "sep\u2028",
        dt.datetime(2025, 1, 31, 10, 0),  # naive
        float("nan"),
        float("inf"),
        b"bytes",
        ["list"],
    ],
)
def test_render_refuses_what_it_cannot_quote(value):
    with pytest.raises(UnsafeConditionValue):
        render_value(value)


def test_refusal_message_names_the_character_not_a_wall_of_text():
    with pytest.raises(UnsafeConditionValue, match=r"contains '\"'"):
        render_value('x"' + "y" * 500)


def test_operators_and_combination():
    cond = Field("company/id").eq(12) & Field("deviceIdentifier").eq("abc-1")
    assert str(cond) == 'company/id = 12 AND deviceIdentifier = "abc-1"'
    either = Field("board/id").eq(1) | Field("board/id").eq(2)
    assert (
        str(either & Field("closedFlag").eq(False)) == "(board/id = 1 OR board/id = 2) AND closedFlag = False"
    )
    assert str(Field("id").gt(5)) == "id > 5"
    assert str(Field("id").ge(5)) == "id >= 5"
    assert str(Field("id").lt(5)) == "id < 5"
    assert str(Field("id").le(5)) == "id <= 5"
    assert str(Field("name").ne("x")) == 'name != "x"'
    assert str(Field("name").contains("Acme")) == 'name contains "Acme"'
    assert str(Field("managementLink").startswith("https://app.addigy.com/")) == (
        'managementLink like "https://app.addigy.com/*"'
    )
    assert str(Field("board/id").in_([3, 2, 4])) == "board/id in (3, 2, 4)"
    assert str(Field("company/id").not_in([1, 2])) == "company/id not in (1, 2)"
    assert str(Field("a").eq(1) & Field("b").eq(2) & Field("c").eq(3)) == "(a = 1 AND b = 2) AND c = 3"


@pytest.mark.parametrize("path", ["", "name;drop", "a//b", "a/", "1abc", 'name="x" OR 1', "a b"])
def test_field_paths_are_checked(path):
    with pytest.raises(UnsafeConditionValue):
        Field(path)


def test_wildcards_from_outside_are_refused():
    with pytest.raises(UnsafeConditionValue, match="wildcard"):
        Field("name").contains("a*b")
    with pytest.raises(UnsafeConditionValue, match="wildcard"):
        Field("name").startswith("*")


def test_empty_in_is_refused():
    with pytest.raises(UnsafeConditionValue):
        Field("id").in_([])
    with pytest.raises(UnsafeConditionValue):
        Field("id").not_in([])


def test_chunked_in_keeps_every_value_once_and_stays_short():
    values = list(range(1000, 3000)) + [1000, 1001]
    chunks = chunked_in(Field("id"), values, max_chars=500)
    assert len(chunks) > 1
    assert all(len(str(c)) < 600 for c in chunks)
    seen = [int(v) for c in chunks for v in str(c).split("(")[1].rstrip(")").split(", ")]
    assert seen == list(range(1000, 3000))


# --- SafeQuery: quote it or match in Python, and check what comes back ---


def test_safe_equal_quotes_what_it_can_and_rechecks_exactly():
    query = SafeQuery.equal("externalXRef", "alert-1")
    assert str(query.clause) == 'externalXRef = "alert-1"' and query.unquoted == ()
    assert query.reads() == [query.clause]
    assert query.keep({"externalXRef": "alert-1"})
    for near_miss in ("ALERT-1", " alert-1", "alert-1 ", "alert-10", None, 1):
        assert not query.keep({"externalXRef": near_miss})
    assert not query.keep({})


def test_safe_equal_that_cannot_be_quoted_asks_for_a_wider_read():
    evil = 'x" OR company/id > 0 OR name = "'
    query = SafeQuery.equal("deviceIdentifier", evil, fold=True)
    assert query.clause is None and query.unquoted == (evil,)
    assert query.reads() == [None]
    assert "no documented escape" in (query.refusal or "")
    assert query.keep({"deviceIdentifier": evil.upper()}) and not query.keep({"deviceIdentifier": "x"})


def test_safe_one_of_splits_the_quotable_from_the_rest():
    query = SafeQuery.one_of("identifier", ["Acme", 'Bad"Co', "Acme", "Globex"], fold=True)
    assert [str(c) for c in query.clauses] == ['identifier in ("Acme", "Globex")']
    assert query.unquoted == ('Bad"Co',)
    assert query.reads() == [*query.clauses, None]
    assert query.keep({"identifier": 'bad"co'}) and query.keep({"identifier": "GLOBEX"})
    assert not query.keep({"identifier": "Acme2"})
    assert SafeQuery.one_of("id", []).reads() == []


def test_safe_one_of_nested_paths_and_types():
    query = SafeQuery.one_of("company/id", [7, 9])
    assert str(query.clause) == "company/id in (7, 9)"
    assert query.keep({"company": {"id": 9}})
    assert not query.keep({"company": {"id": "9"}}) and not query.keep({"company": None})
    assert value_at({"company": {"id": 9}}, "company/id") == 9
    assert value_at({"company": 9}, "company/id") is None


def test_safe_contains_trusts_a_sent_search_and_matches_the_rest_here():
    sent = SafeQuery.contains(("name", "identifier"), "Ac me")
    assert str(sent.clause) == 'name contains "Ac me" OR identifier contains "Ac me"'
    assert sent.keep({"name": "anything the server found"})
    here = SafeQuery.contains(("name", "identifier"), '"q"')
    assert here.clause is None
    assert here.keep({"name": 'Acme "Q"'}) and here.keep({"identifier": 'x"Q"'})
    assert not here.keep({"name": "Acme Q"})
    assert SafeQuery.contains(("name",), "a*b").clause is None  # a wildcard is never sent


def test_joined_ands_in_order_and_skips_what_is_absent():
    assert joined() is None and joined(None, None) is None
    one = Field("board/id").eq(1)
    assert joined(None, one) is one
    assert str(joined(one, None, Field("closedFlag").eq(False), Field("x").eq(2))) == (
        "(board/id = 1 AND closedFlag = False) AND x = 2"
    )
