"""Fault and load knobs against the real server (uvicorn in a thread), seen by ``requests``."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from airflow_provider_connectwise.sandbox import FaultConfig, Sandbox


def cw_get(sb: Sandbox, path: str = "/system/info", **params: Any) -> requests.Response:
    return requests.get(sb.api_url + path, params=params, headers=sb.connectwise_headers(), timeout=10)


def cw_post_config(sb: Sandbox, name: str) -> requests.Response:
    s = sb.seed
    body = {
        "name": name,
        "type": {"id": s.configuration_types["Managed Mac"]},
        "company": {"id": s.companies["Initech"]},
    }
    return requests.post(
        sb.api_url + "/company/configurations", json=body, headers=sb.connectwise_headers(), timeout=10
    )


def test_latency_is_applied(sandbox: Sandbox) -> None:
    cw_get(sandbox)  # warm the connection path
    sandbox.set_latency(150)
    started = time.monotonic()
    assert cw_get(sandbox).status_code == 200
    assert time.monotonic() - started >= 0.14
    sandbox.set_latency(0)
    started = time.monotonic()
    cw_get(sandbox)
    assert time.monotonic() - started < 0.14


def test_latency_does_not_serialise_requests(sandbox: Sandbox) -> None:
    """8 concurrent clients, 20 ms latency: requests overlap instead of queueing behind each other."""
    sandbox.set_latency(20)
    local = threading.local()

    def get(_: int) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers.update(sandbox.connectwise_headers())
        return local.session.get(sandbox.api_url + "/system/info", timeout=10).status_code

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(get, range(80)))
    elapsed = time.monotonic() - started
    assert statuses == [200] * 80
    assert elapsed < 80 * 0.02 / 2  # sequentially 1.6 s; concurrently ~0.25 s


def test_keep_alive_requests_are_fast(sandbox: Sandbox) -> None:
    """A reused connection answers in about a millisecond (no 40-ms delayed-ACK stall)."""
    session = requests.Session()
    session.headers.update(sandbox.connectwise_headers())
    session.get(sandbox.api_url + "/system/info", timeout=10)
    started = time.monotonic()
    for _ in range(20):
        assert session.get(sandbox.api_url + "/system/info", timeout=10).status_code == 200
    assert time.monotonic() - started < 20 * 0.02


def test_latency_scope(sandbox: Sandbox) -> None:
    sandbox.set_latency(200, scope="addigy")
    started = time.monotonic()
    cw_get(sandbox)
    assert time.monotonic() - started < 0.15
    started = time.monotonic()
    requests.get(sandbox.addigy_url + "/configuration/whoami", headers=sandbox.addigy_headers(), timeout=10)
    assert time.monotonic() - started >= 0.19


def test_rate_limit_json_429(sandbox: Sandbox) -> None:
    sandbox.set_rate_limit(5)
    statuses = [cw_get(sandbox).status_code for _ in range(5)]
    assert statuses == [200] * 5
    resp = cw_get(sandbox)
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert resp.json() == {"error": "ConnectWiseAPI", "message": "Too many requests, please try again later."}
    stats = sandbox.stats()
    assert stats["faults"] == {"429": 1}
    assert stats["statuses"]["429"] == 1
    assert sandbox.max_requests_per_minute("connectwise") == 6  # the refused request counts too


def test_rate_limit_html_429_and_addigy_body(sandbox: Sandbox) -> None:
    sandbox.set_rate_limit(1, style="html")
    cw_get(sandbox)
    resp = cw_get(sandbox)
    assert resp.status_code == 429 and resp.headers["content-type"].startswith("text/html")
    assert resp.text.lstrip().startswith("<!DOCTYPE html>")  # not JSON at all
    sandbox.set_rate_limit(1)
    addigy = [
        requests.get(
            sandbox.addigy_url + "/configuration/whoami", headers=sandbox.addigy_headers(), timeout=10
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in addigy] == [200, 429]
    assert addigy[1].json()["code"] == 429


def test_500_503_and_timeout_text(sandbox: Sandbox) -> None:
    sandbox.queue_fault("500")
    resp = cw_get(sandbox)
    assert resp.status_code == 500 and resp.json()["code"] == "ConnectWiseApi"
    sandbox.queue_fault("500-timeout")
    resp = cw_get(sandbox)
    assert resp.status_code == 500 and "timeout" in resp.text.lower()
    sandbox.queue_fault("503", count=2)
    assert [cw_get(sandbox).status_code for _ in range(3)] == [503, 503, 200]
    sandbox.set_faults(fail_500=1.0, fail_500_text="timeout")
    assert "Timeout" in cw_get(sandbox).json()["message"]


def test_connection_reset_is_a_connection_error(sandbox: Sandbox) -> None:
    sandbox.queue_fault("reset")
    with pytest.raises(requests.ConnectionError):
        cw_get(sandbox)
    assert cw_get(sandbox).status_code == 200
    assert sandbox.request_log()[-2]["fault"] == "reset"
    assert sandbox.request_log()[-2]["status"] is None


def test_write_nothing_on_500_or_reset(sandbox: Sandbox) -> None:
    before = len(sandbox.state.connectwise.configurations)
    sandbox.queue_fault("500", methods=["POST"])
    assert cw_post_config(sandbox, "never-1").status_code == 500
    sandbox.queue_fault("reset", methods=["POST"])
    with pytest.raises(requests.ConnectionError):
        cw_post_config(sandbox, "never-2")
    assert len(sandbox.state.connectwise.configurations) == before


@pytest.mark.parametrize(("kind", "status"), [("lost", None), ("lost-500", 500), ("lost-504", 504)])
def test_lost_after_commit(sandbox: Sandbox, kind: str, status: int | None) -> None:
    sandbox.queue_fault(kind, methods=["POST"])
    name = f"committed-{kind}"
    if status is None:
        with pytest.raises(requests.ConnectionError):
            cw_post_config(sandbox, name)
    else:
        assert cw_post_config(sandbox, name).status_code == status
    created = sandbox.state.connectwise.find("configurations", name=name)
    assert len(created) == 1  # the write happened although the client saw an error
    entry = sandbox.request_log()[-1]
    assert entry["fault"] == kind and entry["method"] == "POST"


def test_lost_after_commit_probability_knob(sandbox: Sandbox) -> None:
    sandbox.set_faults(lost_after_commit=1.0, lost_after_commit_mode="500", methods=["POST"])
    assert cw_get(sandbox).status_code == 200  # only writes are affected
    assert cw_post_config(sandbox, "knob").status_code == 500
    assert sandbox.state.connectwise.find("configurations", name="knob")


def test_probabilistic_faults_are_seeded(sandbox: Sandbox) -> None:
    def run() -> list[int]:
        sandbox.clear_faults()
        sandbox.set_faults(fail_503=0.5, seed=7, scope="connectwise")
        return [cw_get(sandbox).status_code for _ in range(24)]

    first = run()
    sandbox.set_faults(seed=8)  # a different seed resets the RNG ...
    second = run()  # ... and clear_faults + seed 7 gives the same sequence again
    assert first == second
    assert set(first) == {200, 503}


def test_fault_scope_and_method_filters(sandbox: Sandbox) -> None:
    sandbox.set_faults(fail_500=1.0, scope="addigy")
    assert cw_get(sandbox).status_code == 200
    whoami = requests.get(
        sandbox.addigy_url + "/configuration/whoami", headers=sandbox.addigy_headers(), timeout=10
    )
    assert whoami.status_code == 500 and whoami.json()["code"] == 500
    sandbox.set_faults(scope="connectwise", methods=["POST", "PATCH"])
    assert cw_get(sandbox).status_code == 200
    assert cw_post_config(sandbox, "x").status_code == 500


def test_counters_log_and_no_secrets(sandbox: Sandbox) -> None:
    cw_get(sandbox, "/company/configurations", pageSize=5)
    cw_get(sandbox, f"/company/configurations/{sandbox.seed.configurations['acme-core-switch']}")
    cw_get(sandbox, f"/company/configurations/{sandbox.seed.configurations['acme-printer']}")
    cw_post_config(sandbox, "counted")
    requests.post(
        sandbox.addigy_url + "/o/org-demo/devices", json={}, headers=sandbox.addigy_headers(), timeout=10
    )
    requests.get(sandbox.url + "/_sandbox/stats", timeout=10)  # admin calls are not counted
    assert sandbox.count("GET", "/company/configurations") == 1
    assert sandbox.count("GET", "/company/configurations/{id}") == 2
    assert sandbox.count("POST", "/company/configurations") == 1
    assert sandbox.count("POST", "/api/v2/o/{organization_id}/devices") == 1
    stats = sandbox.stats()
    assert stats["total"] == 5 and stats["by_service"] == {"connectwise": 4, "addigy": 1}
    log = sandbox.request_log()
    assert [e["status"] for e in log] == [200, 200, 200, 201, 200]
    assert log[0]["query"] == [["pageSize", "5"]]
    assert {"time", "method", "path", "template", "status", "fault", "service", "duration_ms"} <= set(log[0])
    dumped = json.dumps(log) + json.dumps(stats)
    for secret in ("demo-private-key", "demo-public-key", "demo-addigy-api-key", "Basic ", "3f0b5c2e"):
        assert secret not in dumped


def test_max_requests_per_minute(sandbox: Sandbox) -> None:
    for _ in range(7):
        cw_get(sandbox)
    assert sandbox.max_requests_per_minute("connectwise") == 7
    assert sandbox.max_requests_per_minute("addigy") == 0
    sandbox.clear_stats()
    assert sandbox.max_requests_per_minute("connectwise") == 0


def test_admin_over_http(sandbox: Sandbox) -> None:
    base = sandbox.url + "/_sandbox"
    assert requests.get(base + "/health", timeout=5).json()["status"] == "ok"
    resp = requests.patch(base + "/faults", json={"fail_503": 1.0, "scope": "connectwise"}, timeout=5)
    assert resp.status_code == 200 and resp.json()["fail_503"] == 1.0
    assert cw_get(sandbox).status_code == 503
    assert requests.patch(base + "/faults", json={"fail_503": 3}, timeout=5).status_code == 400
    assert requests.patch(base + "/faults", json={"bogus": 1}, timeout=5).status_code == 400
    requests.delete(base + "/faults", timeout=5)
    assert cw_get(sandbox).status_code == 200
    requests.post(base + "/faults/queue", json={"kind": "503", "count": 1, "methods": ["GET"]}, timeout=5)
    assert cw_get(sandbox).status_code == 503
    stats = requests.get(base + "/stats", timeout=5).json()
    assert stats["counters"]["GET /system/info"] == 3
    log = requests.get(base + "/requests", params={"limit": 1}, timeout=5).json()["requests"]
    assert len(log) == 1 and log[0]["status"] == 503 and log[0]["fault"] == "503"
    conns = requests.get(base + "/connections", timeout=5).json()
    assert (
        conns["connectwise"]["host"] == sandbox.url and conns["addigy"]["password"] == "demo-addigy-api-key"
    )
    assert (
        requests.get(base + "/seed", timeout=5).json()["companies"]["AcmeCorp"]
        == sandbox.seed.companies["AcmeCorp"]
    )
    cw_post_config(sandbox, "to-be-reset")
    assert requests.post(base + "/reset", json={}, timeout=5).json() == {"seed": "demo"}
    assert not sandbox.state.connectwise.find("configurations", name="to-be-reset")
    assert sandbox.stats()["total"] == 0


def test_strict_toggle_over_http(sandbox: Sandbox) -> None:
    assert cw_get(sandbox, "/system/info", bogus="1").status_code == 400
    requests.put(sandbox.url + "/_sandbox/strict", json={"strict": False}, timeout=5)
    assert cw_get(sandbox, "/system/info", bogus="1").status_code == 200


def test_constructor_knobs(make_sandbox: Any) -> None:
    sb = make_sandbox(
        faults=FaultConfig(fail_503=1.0, scope="addigy"), latency_ms=0, rate_limit=1000, strict=False
    )
    assert cw_get(sb).status_code == 200
    assert (
        requests.get(
            sb.addigy_url + "/configuration/whoami", headers=sb.addigy_headers(), timeout=5
        ).status_code
        == 503
    )
    assert sb.config.faults.rate_limit == 1000
    with pytest.raises(ValueError, match="probability"):
        FaultConfig(fail_500=2)


def test_custom_credentials(make_sandbox: Any) -> None:
    from airflow_provider_connectwise.sandbox import Credentials

    sb = make_sandbox(
        credentials=Credentials(
            company="acme",
            public_key="pub",
            private_key="priv",
            client_id=None,
            addigy_api_key="k",
            addigy_org_id="org-x",
        )
    )
    conn = sb.connectwise_connection()
    assert (conn["login"], conn["password"], conn["extra"]["public_key"]) == ("acme", "priv", "pub")
    assert cw_get(sb).status_code == 200  # any clientId accepted when none is pinned
    assert requests.get(sb.url + "/login/companyinfo/acme", timeout=5).json()["CompanyID"] == "acme"
    whoami = requests.get(sb.addigy_url + "/configuration/whoami", headers={"x-api-key": "k"}, timeout=5)
    assert whoami.json()["organization_id"] == "org-x"
