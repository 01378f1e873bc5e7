"""The one request path: retry rule, Retry-After, lost POSTs, timeouts, budget, paging, errors."""

from __future__ import annotations

import json
import time

import pytest
import requests
import requests_mock as rm

from airflow_provider_connectwise.exceptions import (
    ConnectWiseAuthError,
    ConnectWiseConflictError,
    ConnectWiseError,
    ConnectWiseNotFoundError,
    ConnectWiseRateLimitedError,
    ConnectWiseResponseLostError,
    ConnectWiseRoutingError,
    ConnectWiseServerError,
    ConnectWiseTransportError,
    ConnectWiseValidationError,
    RateLimitedError,
    ServerError,
)
from airflow_provider_connectwise.hooks._http import (
    RateBudget,
    RestClient,
    RetryPolicy,
    is_retryable,
    parse_retry_after,
)
from airflow_provider_connectwise.hooks.connectwise import CONNECTWISE_ERRORS

BASE = "https://api-na.myconnectwise.net/"
URL = BASE + "v2025_1/apis/3.0/service/boards"


@pytest.fixture
def client():
    c = RestClient(
        base_url=BASE,
        headers={"clientId": "cid"},
        family=CONNECTWISE_ERRORS,
        timeout=7.5,
        retry=RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05, max_total_wait=30),
    )
    c.sleep = c.slept = []  # type: ignore[attr-defined]
    c.sleep = c.slept.append
    return c


def _get(client):
    return client.request("GET", "v2025_1/apis/3.0/service/boards")


RETRIED = [
    (
        {"status_code": 429, "json": {"error": "ConnectWiseAPI", "message": "Too many requests"}},
        ConnectWiseRateLimitedError,
    ),
    ({"status_code": 429, "text": "<html>Cloudflare: rate limited</html>"}, ConnectWiseRateLimitedError),
    ({"status_code": 502, "text": "Bad gateway"}, ConnectWiseServerError),
    ({"status_code": 503, "json": {"code": "Unavailable", "message": "down"}}, ConnectWiseServerError),
    ({"status_code": 504, "text": ""}, ConnectWiseServerError),
    (
        {"status_code": 500, "json": {"code": "Error", "message": "Database timeout expired"}},
        ConnectWiseServerError,
    ),
    ({"exc": requests.exceptions.ConnectionError("reset")}, ConnectWiseTransportError),
    ({"exc": requests.exceptions.ReadTimeout("slow")}, ConnectWiseTransportError),
    ({"exc": requests.exceptions.ConnectTimeout("no route")}, ConnectWiseTransportError),
]
NOT_RETRIED = [
    (
        400,
        {"code": "InvalidObject", "message": "bad", "errors": [{"field": "name", "message": "required"}]},
        ConnectWiseValidationError,
    ),
    (401, {"code": "Unauthorized", "message": "no"}, ConnectWiseAuthError),
    (403, {"code": "Forbidden", "message": "role"}, ConnectWiseAuthError),
    (404, {"code": "NotFound", "message": "gone"}, ConnectWiseNotFoundError),
    (409, {"code": "Conflict", "message": "busy"}, ConnectWiseConflictError),
    (500, {"code": "Error", "message": "NullReferenceException"}, ConnectWiseServerError),
]


@pytest.mark.parametrize(("failure", "error_type"), RETRIED)
def test_retryable_failures_are_retried_then_succeed(client, failure, error_type):
    with rm.Mocker() as m:
        m.get(URL, [failure, failure, {"status_code": 200, "json": [{"id": 1}]}])
        assert _get(client).data == [{"id": 1}]
        assert m.call_count == 3
    assert len(client.slept) == 2


@pytest.mark.parametrize(("failure", "error_type"), RETRIED)
def test_retryable_failures_give_up_after_max_attempts(client, failure, error_type):
    with rm.Mocker() as m:
        m.get(URL, [failure] * 10)
        with pytest.raises(error_type):
            _get(client)
        assert m.call_count == 4


@pytest.mark.parametrize(("status", "body", "error_type"), NOT_RETRIED)
def test_client_errors_are_never_retried(client, status, body, error_type):
    with rm.Mocker() as m:
        m.get(URL, status_code=status, json=body)
        with pytest.raises(error_type) as info:
            _get(client)
        assert m.call_count == 1
    err = info.value
    assert err.status == status
    assert err.code == body["code"]
    assert err.method == "GET"
    assert err.path == "v2025_1/apis/3.0/service/boards"
    assert body["message"] in str(err)
    assert str(status) in str(err)


def test_validation_error_carries_field_list(client):
    errors = [
        {"code": "InvalidField", "message": "Name is required", "resource": "configuration", "field": "name"}
    ]
    with rm.Mocker() as m:
        m.post(
            BASE + "x",
            status_code=400,
            json={"code": "InvalidObject", "message": "invalid", "errors": errors},
        )
        with pytest.raises(ConnectWiseValidationError) as info:
            client.request("POST", "x", json_body={}, find_existing=lambda: None)
    assert info.value.errors == errors
    assert "name: Name is required" in str(info.value)


def test_auth_error_hints_at_what_to_check(client):
    with rm.Mocker() as m:
        m.get(URL, status_code=401, json={"code": "Unauthorized", "message": "Invalid credentials"})
        with pytest.raises(ConnectWiseAuthError) as info:
            _get(client)
    text = str(info.value)
    for thing in ("Company ID", "Public and Private keys", "Client ID", "security role"):
        assert thing in text


def test_cannot_route_text_is_a_routing_error(client):
    with rm.Mocker() as m:
        m.get(URL, status_code=200, text="Cannot route. Codebase/company is invalid")
        with pytest.raises(ConnectWiseRoutingError, match="Cannot route"):
            _get(client)


def test_non_json_success_is_an_error_not_a_crash(client):
    with rm.Mocker() as m:
        m.get(URL, text="<html>maintenance</html>")
        with pytest.raises(ConnectWiseServerError, match="expected JSON"):
            _get(client)


def test_retry_after_is_honoured_json_or_not(client):
    with rm.Mocker() as m:
        m.get(
            URL,
            [
                {"status_code": 429, "headers": {"Retry-After": "3"}, "json": {"error": "ConnectWiseAPI"}},
                {"status_code": 429, "headers": {"Retry-After": "2"}, "text": "<html>slow down</html>"},
                {"json": []},
            ],
        )
        _get(client)
    assert client.slept == [3.0, 2.0]


def test_rate_limit_error_keeps_retry_after_and_body_error_as_code(client):
    with rm.Mocker() as m:
        m.get(
            URL,
            status_code=429,
            headers={"Retry-After": "1"},
            json={"error": "ConnectWiseAPI", "message": "Too many"},
        )
        with pytest.raises(RateLimitedError) as info:
            _get(client)
    assert info.value.retry_after == 1.0
    assert info.value.code == "ConnectWiseAPI"


def test_total_wait_is_bounded(client):
    client.retry = RetryPolicy(max_attempts=10, initial_wait=0.01, max_wait=0.05, max_total_wait=5)
    with rm.Mocker() as m:
        m.get(URL, status_code=429, headers={"Retry-After": "4"}, text="no")
        with pytest.raises(ConnectWiseRateLimitedError):
            _get(client)
        # 4 s waited once; a second 4 s wait would pass the 5 s budget
        assert m.call_count == 2
    assert client.slept == [4.0]


def test_backoff_is_exponential_with_jitter_and_capped():
    policy = RetryPolicy(initial_wait=1, max_wait=8)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (9, 8)]:
        waits = {policy.backoff(attempt, None) for _ in range(20)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jitter


@pytest.mark.parametrize(
    ("header", "expected"),
    [("5", 5.0), ("0", 0.0), (" 2.5 ", 2.5), ("-1", 0.0), ("soon", None), (None, None), ("", None)],
)
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date():
    from email.utils import formatdate

    assert 8 <= parse_retry_after(formatdate(time.time() + 10, usegmt=True)) <= 10


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (ConnectWiseRateLimitedError("x", status=429), True),
        (ConnectWiseServerError("x", status=502), True),
        (ConnectWiseServerError("x", status=503), True),
        (ConnectWiseServerError("x", status=504), True),
        (ConnectWiseServerError("SQL Timeout expired", status=500), True),
        (ConnectWiseServerError("boom", status=500), False),
        (ConnectWiseTransportError("reset"), True),
        (ConnectWiseTransportError("certificate", retryable=False), False),
        (ConnectWiseResponseLostError("lost"), False),
        (ConnectWiseValidationError("x", status=400), False),
        (ConnectWiseAuthError("x", status=401), False),
        (ConnectWiseNotFoundError("x", status=404), False),
        (ConnectWiseConflictError("x", status=409), False),
        (ValueError("not ours"), False),
    ],
)
def test_is_retryable_table(error, retryable):
    assert is_retryable(error) is retryable


def test_timeout_reaches_the_transport(client):
    with rm.Mocker() as m:
        m.get(URL, json=[])
        _get(client)
        assert m.last_request.timeout == 7.5


def test_no_redirect_is_followed(client):
    with rm.Mocker() as m:
        m.get(URL, status_code=302, headers={"Location": "https://elsewhere.example/"})
        with pytest.raises(ConnectWiseError):
            _get(client)
        assert m.call_count == 1


# --- a POST whose answer was lost ---


@pytest.mark.parametrize(
    "lost",
    [
        {"exc": requests.exceptions.ConnectionError("Connection aborted.")},
        {"exc": requests.exceptions.ReadTimeout("read timed out")},
        {"status_code": 503, "text": "unavailable"},
        {"status_code": 502, "text": "bad gateway"},
    ],
)
def test_lost_post_is_not_resent_without_a_look_up(client, lost):
    with rm.Mocker() as m:
        m.post(BASE + "things", [lost, {"status_code": 201, "json": {"id": 9}}])
        with pytest.raises(ConnectWiseResponseLostError, match="not re-sent"):
            client.request("POST", "things", json_body={"name": "x"})
        assert m.call_count == 1


def test_lost_post_looks_first_and_uses_what_it_finds(client):
    looks = []

    def find_existing():
        looks.append(1)
        return {"id": 41, "name": "x"}

    with rm.Mocker() as m:
        m.post(
            BASE + "things",
            [{"exc": requests.exceptions.ConnectionError("reset")}, {"status_code": 201, "json": {"id": 99}}],
        )
        answer = client.request("POST", "things", json_body={"name": "x"}, find_existing=find_existing)
        assert m.call_count == 1
    assert answer.data == {"id": 41, "name": "x"}
    assert looks == [1]


def test_lost_post_resent_when_the_look_up_finds_nothing(client):
    with rm.Mocker() as m:
        m.post(
            BASE + "things",
            [{"status_code": 500, "text": "timeout"}, {"status_code": 201, "json": {"id": 99}}],
        )
        answer = client.request("POST", "things", json_body={"name": "x"}, find_existing=lambda: None)
        assert m.call_count == 2
    assert answer.data == {"id": 99}


def test_post_that_never_connected_or_was_throttled_is_simply_retried(client):
    looks = []
    with rm.Mocker() as m:
        m.post(
            BASE + "things",
            [
                {"exc": requests.exceptions.ConnectTimeout("no route")},
                {"status_code": 429, "text": "slow"},
                {"status_code": 201, "json": {"id": 5}},
            ],
        )
        answer = client.request("POST", "things", json_body={}, find_existing=lambda: looks.append(1))
        assert m.call_count == 3
    assert answer.data == {"id": 5}
    assert looks == []  # nothing could have been applied: no look-up needed


def test_patch_is_idempotent_and_retried_without_look_up(client):
    with rm.Mocker() as m:
        m.patch(
            BASE + "things/1", [{"exc": requests.exceptions.ConnectionError("reset")}, {"json": {"id": 1}}]
        )
        assert client.request("PATCH", "things/1", json_body=[]).data == {"id": 1}
        assert m.call_count == 2


# --- rate budget ---


def test_rate_budget_spaces_requests_so_no_minute_holds_more_than_the_budget():
    budget = RateBudget(per_minute=600)  # one slot every 0.1 s
    waits = [budget.reserve() for _ in range(5)]
    assert waits[0] == pytest.approx(0, abs=0.01)
    for earlier, later in zip(waits, waits[1:]):
        assert later - earlier == pytest.approx(0.1, abs=0.01)


def test_rate_budget_unlimited_never_waits():
    budget = RateBudget(None)
    assert all(budget.reserve() == 0 for _ in range(100))


def test_shared_budget_is_one_per_key():
    a = RateBudget.shared("host/acme", 100)
    assert RateBudget.shared("host/acme", 100) is a
    assert RateBudget.shared("host/other", 100) is not a


def test_budget_is_taken_per_attempt(client):
    taken = []
    client.budget.acquire = lambda: taken.append(1)
    with rm.Mocker() as m:
        m.get(URL, [{"status_code": 503, "text": ""}, {"json": []}])
        _get(client)
    assert len(taken) == 2


# --- paging ---


def _page(m, url_params, items, next_link=None):
    headers = {"Link": f'<{next_link}>; rel="next"'} if next_link else {}
    return {"json": items, "headers": headers}


def test_numbered_paging_keeps_parameters_on_every_page(client):
    with rm.Mocker() as m:
        m.get(
            URL,
            [
                {
                    "json": [{"id": 1}, {"id": 2}],
                    "headers": {"Link": f'<{URL}?page=2>; rel="next", <{URL}?page=3>; rel="last"'},
                },
                {"json": [{"id": 3}, {"id": 4}], "headers": {"Link": f'<{URL}?page=3>; rel="next"'}},
                {"json": [{"id": 5}], "headers": {"Link": f'<{URL}?page=1>; rel="first"'}},
            ],
        )
        items = list(
            client.paginate(
                "v2025_1/apis/3.0/service/boards", {"conditions": "inactiveFlag = False", "fields": "id"}
            )
        )
        assert [i["id"] for i in items] == [1, 2, 3, 4, 5]
        pages = [r.qs for r in m.request_history]
    assert [p["page"] for p in pages] == [["1"], ["2"], ["3"]]
    assert all(
        p["pagesize"] == ["1000"] and p["conditions"] == ["inactiveflag = false"] and p["fields"] == ["id"]
        for p in pages
    )


def test_forward_only_paging_follows_page_id(client):
    with rm.Mocker() as m:
        m.get(
            URL,
            [
                {
                    "json": [{"id": 3}, {"id": 7}],
                    "headers": {"Link": f'<{URL}?pageId=7&pageSize=1000>; rel="next"'},
                },
                {"json": [{"id": 9}], "headers": {}},
            ],
        )
        items = list(
            client.paginate("v2025_1/apis/3.0/service/boards", {"conditions": "id > 1"}, forward_only=True)
        )
        assert [i["id"] for i in items] == [3, 7, 9]
        first, second = m.request_history
    assert first.headers["pagination-type"] == "forward-only"
    assert "pageid" not in first.qs and "page" not in first.qs
    assert second.qs["pageid"] == ["7"] and second.qs["conditions"] == ["id > 1"]


def test_paging_stops_on_an_empty_page_even_with_a_next_link(client):
    with rm.Mocker() as m:
        m.get(URL, [{"json": [], "headers": {"Link": f'<{URL}?page=2>; rel="next"'}}])
        assert list(client.paginate("v2025_1/apis/3.0/service/boards")) == []
        assert m.call_count == 1


def test_client_repr_hides_headers():
    c = RestClient(base_url=BASE, headers={"Authorization": "Basic c2VjcmV0"}, family=CONNECTWISE_ERRORS)
    assert "c2VjcmV0" not in repr(c)


def test_server_error_retryable_property():
    assert ServerError("x", status=503).retryable
    assert not ServerError("x", status=501).retryable


# --- the async twin (triggers) ---


def test_async_client_shares_error_mapping_and_retry_rule():
    import asyncio

    import httpx

    from airflow_provider_connectwise.hooks._http import AsyncRestClient

    answers = iter(
        [
            httpx.Response(503, text="busy"),
            httpx.Response(429, headers={"Retry-After": "0"}, text="<html>slow</html>"),
            httpx.Response(200, json={"id": 500, "closedFlag": True}),
        ]
    )
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(answers)

    client = AsyncRestClient(
        base_url=BASE,
        headers={"clientId": "cid"},
        family=CONNECTWISE_ERRORS,
        retry=RetryPolicy(max_attempts=4, initial_wait=0.001, max_wait=0.002),
        transport=httpx.MockTransport(handler),
    )
    answer = asyncio.run(
        client.request("GET", "v2025_1/apis/3.0/service/tickets/500", params={"fields": "id"})
    )
    assert answer.data == {"id": 500, "closedFlag": True}
    assert len(seen) == 3
    assert seen[0].headers["clientId"] == "cid"
    assert seen[0].url.params["fields"] == "id"

    failing = AsyncRestClient(
        base_url=BASE,
        headers={},
        family=CONNECTWISE_ERRORS,
        transport=httpx.MockTransport(
            lambda r: httpx.Response(404, json={"code": "NotFound", "message": "no ticket"})
        ),
    )
    with pytest.raises(ConnectWiseNotFoundError, match="no ticket"):
        asyncio.run(failing.request("GET", "x"))


def test_async_client_refuses_writes():
    import asyncio

    from airflow_provider_connectwise.hooks._http import AsyncRestClient

    client = AsyncRestClient(base_url=BASE, headers={}, family=CONNECTWISE_ERRORS)
    with pytest.raises(ValueError, match="idempotent"):
        asyncio.run(client.request("POST", "x"))


# The names the model-based test drew: mostly astral and Latin-1 characters. Without a charset,
# requests' Response.text guessed their encoding and read them as CJK mojibake, so every sync
# saw a different name and patched the configuration again.
STRANGE_NAMES = [
    "\xf9K\U000e4c91tY.D\U000d27c0A\xb0\U000e2ec9\U000b0af7\U000fd05e\xc3\U00020def\U00029e79G\U000e7acbn%\xb0\xdf\U00100cdfu",
    "\U0005f9d6\xd2\U000b7264\xf7\xd5\xb1\xb2\U000a7b55\U000cbed7\xc5\xf4",
    "山田のMacBook Air",
]


def _answer(body: bytes, content_type: str) -> requests.Response:
    """An answer as requests builds it from the wire (no mock sets its encoding)."""
    response = requests.Response()
    response.status_code = 200
    response._content = body
    response.headers["Content-Type"] = content_type
    return response


@pytest.mark.parametrize("name", STRANGE_NAMES)
@pytest.mark.parametrize(
    "content_type",
    [
        "application/vnd.connectwise.com+json; version=2025.1",
        "application/json",
        "application/json; charset=utf-8",
    ],
)
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_json_answers_are_read_as_utf8_unless_they_say_otherwise(client, name, content_type, bom):
    body = bom + json.dumps([{"name": name}], ensure_ascii=False).encode("utf-8")
    assert client._parse(_answer(body, content_type), "GET", "x").data == [{"name": name}]


def test_a_declared_charset_is_honoured(client):
    body = json.dumps([{"name": "Zoë"}], ensure_ascii=False).encode("latin-1")
    answer = _answer(body, "application/json; charset=ISO-8859-1")
    assert client._parse(answer, "GET", "x").data == [{"name": "Zoë"}]
