"""Any device name survives the round trip to ConnectWise and back: a second sync writes nothing.

The model-based test found names (mostly astral and Latin-1 characters) that came back as CJK
mojibake: ``requests`` guessed the encoding of an answer whose ``Content-Type`` names no charset,
so the configuration never looked like what was written and every sync patched it again.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_connectwise.core.planning import Scope
from airflow_provider_connectwise.flows.binding import bind_all
from airflow_provider_connectwise.flows.policy_links import policies_and_devices
from airflow_provider_connectwise.flows.settings import validate_settings
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from tests.flows.conftest import EXAMPLE_SETTINGS

pytestmark = pytest.mark.integration

WRITES = (
    ("POST", "/company/configurations"),
    ("POST", "/company/configurations/bulk"),
    ("PATCH", "/company/configurations/{id}"),
)
FOUND = [
    "\xf9K\U000e4c91tY.D\U000d27c0A\xb0\U000e2ec9\U000b0af7\U000fd05e\xc3\U00020def\U00029e79G\U000e7acbn%\xb0\xdf\U00100cdfu",
    "\U0005f9d6\xd2\U000b7264\xf7\xd5\xb1\xb2\U000a7b55\U000cbed7\xc5\xf4",
    "a\U0003f840'\xd3+",
    "山田のMacBook Air",
]


def _sync_twice(sb, name: str) -> tuple[int, list]:
    cw, addigy = ConnectWiseHook(requests_per_minute=None), AddigyHook()
    settings = validate_settings(cw, EXAMPLE_SETTINGS)
    agent = next(a for a, d in sb.state.addigy.devices.items() if d.get("agentid"))
    sb.state.addigy.set_facts(agent, {settings.field_mapping["name"]: name})
    scope = Scope(all_policies=True)
    bind_all(cw, settings, *policies_and_devices(addigy, cw, settings), scope=scope)
    before = sum(sb.count(*w) for w in WRITES)
    _, results = bind_all(cw, settings, *policies_and_devices(addigy, cw, settings), scope=scope)
    again = [(r.agentid, r.action, r.error) for r in results if r.action not in ("none", "fail")]
    return sum(sb.count(*w) for w in WRITES) - before, again


@pytest.mark.parametrize("name", FOUND)
def test_a_name_the_model_test_found_converges(airflow_env, name):
    writes, again = _sync_twice(airflow_env, name)
    assert writes == 0, again


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(name=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30))
def test_any_name_converges(airflow_env, name):
    writes, again = _sync_twice(airflow_env, name)
    assert writes == 0, again
