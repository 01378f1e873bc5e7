"""Conformance: every ConnectWise request a test sent must be one the official API accepts.

Reused by every test that mocks ConnectWise with requests-mock. The validator itself lives in
the sandbox (its strict mode uses the same code).
"""

from __future__ import annotations

from collections.abc import Iterable


def assert_requests_conform(history: Iterable) -> int:
    """Validate every ``/apis/3.0/`` request of a requests-mock history; return how many."""
    from airflow_provider_connectwise.sandbox.contract import validate_connectwise_request

    checked = 0
    problems = []
    for request in history:
        if "/apis/3.0/" not in request.url:
            continue
        try:
            validate_connectwise_request(request.method, request.url, dict(request.headers), request.body)
        except Exception as exc:  # collect all, report together
            problems.append(f"{request.method} {request.url}: {exc}")
        checked += 1
    assert not problems, "requests that break the ConnectWise contract:\n" + "\n".join(problems)
    return checked
