"""A server that matches loosely (trims, folds case, treats the value as a pattern) never makes
the hook hand over the wrong record: every look-up by an outside value re-checks in Python."""

from __future__ import annotations

import pytest

from tests.hooks.conftest import API

NEAR_MISSES = [
    pytest.param(
        "service/tickets",
        "externalXRef",
        [" alert-7 ", "Alert-7", "alert-7x", "alert-%"],
        lambda hook: hook.find_tickets(board_id=1, external_ref="alert-7"),
        'board/id = 1 and externalxref = "alert-7"',
        id="ticket-by-reference",
    ),
    pytest.param(
        "company/configurations",
        "deviceIdentifier",
        [" agent-1", "agent-1 ", "agent-10", None],  # agent ids compare without case, nothing looser
        lambda hook: hook.find_configurations(7, "agent-1"),
        'company/id = 7 and deviceidentifier = "agent-1"',
        id="configuration-by-agent-id",
    ),
    pytest.param(
        "company/companies",
        "identifier",
        ["AcmeCorp2", " acmecorp", "Acme"],
        lambda hook: hook.find_companies(identifiers=["AcmeCorp"]),
        'identifier in ("acmecorp")',
        id="company-by-identifier",
    ),
]


@pytest.mark.parametrize(("path", "field", "near_misses", "look_up", "sent"), NEAR_MISSES)
def test_a_near_miss_of_a_loose_server_is_ignored(hook, cw_api, path, field, near_misses, look_up, sent):
    cw_api.get(API + path, json=[{"id": n, field: value} for n, value in enumerate(near_misses, 1)])
    assert look_up(hook) == []
    assert cw_api.last_request.qs["conditions"] == [sent]


def test_the_exact_record_among_near_misses_is_kept(hook, cw_api):
    cw_api.get(
        API + "company/configurations",
        json=[{"id": 1, "deviceIdentifier": "agent-10"}, {"id": 2, "deviceIdentifier": "AGENT-1"}],
    )
    assert [c["id"] for c in hook.find_configurations(7, "agent-1")] == [2]
