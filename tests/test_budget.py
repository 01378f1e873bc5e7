"""One ConnectWise budget per account: the split between pooled tasks and triggers, the pool default."""

from __future__ import annotations

import pendulum
import pytest
from airflow.sdk import DAG
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_connectwise.budget import Budget, budget_from, configured_budget, pool_problem
from airflow_provider_connectwise.operators.binding import (
    AddigyFetchDevicesOperator,
    ConnectWiseApplyBindingOperator,
    ConnectWiseSyncDevicesOperator,
)
from airflow_provider_connectwise.operators.tickets import ConnectWiseCreateTicketOperator
from airflow_provider_connectwise.sensors.tickets import ConnectWiseTicketClosedSensor


@settings(max_examples=300, deadline=None)
@given(
    per_minute=st.floats(min_value=1, max_value=100_000),
    pool_slots=st.integers(min_value=1, max_value=256),
    trigger_fraction=st.floats(min_value=0, max_value=0.99),
    triggerers=st.integers(min_value=1, max_value=8),
    running=st.lists(st.integers(min_value=1, max_value=300), max_size=300),
)
def test_whatever_runs_at_once_the_account_never_exceeds_its_budget(
    per_minute, pool_slots, trigger_fraction, triggerers, running
):
    budget = Budget(per_minute, "connectwise", pool_slots, per_minute * trigger_fraction, triggerers)
    # the scheduler admits tasks while their pool_slots fit in the pool: any such set of tasks
    admitted, used = [], 0
    for task_slots in running:
        if used + task_slots <= pool_slots:
            admitted.append(task_slots)
            used += task_slots
    total = sum(budget.task_share(s) for s in admitted) + budget.trigger_share() * triggerers
    assert total <= per_minute * (1 + 1e-9)
    if used == pool_slots:  # a full pool uses the whole budget: nothing is wasted
        assert total == pytest.approx(per_minute)


def test_a_task_with_more_slots_than_the_pool_gets_at_most_the_pool_share():
    budget = Budget(900, "connectwise", 4, 60, 1)
    assert budget.task_share(1) == pytest.approx(210)
    assert budget.task_share(9) == pytest.approx(840)  # Airflow would never run it; never above


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"pool_slots": "four"}, "pool_slots must be an integer, not 'four'"),
        ({"pool_slots": "0"}, "pool_slots must be at least 1"),
        ({"requests_per_minute": "-5"}, "requests_per_minute must be above 0"),
        ({"trigger_requests_per_minute": "900"}, "trigger_requests_per_minute must be at least 0 and below"),
        ({"triggerers": "0"}, "triggerers must be at least 1"),
        ({"pool": "  "}, "pool must not be empty"),
    ],
)
def test_a_bad_setting_fails_naming_it(values, message):
    with pytest.raises(ValueError, match=r"\[connectwise\] " + message.replace("(", r"\(")):
        budget_from(values)


def test_settings_come_from_airflows_configuration(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CONNECTWISE__REQUESTS_PER_MINUTE", "120")
    monkeypatch.setenv("AIRFLOW__CONNECTWISE__POOL_SLOTS", "2")
    monkeypatch.setenv("AIRFLOW__CONNECTWISE__TRIGGER_REQUESTS_PER_MINUTE", "12")
    assert configured_budget() == Budget(120, "connectwise", 2, 12, 1)
    assert configured_budget().task_share() == pytest.approx(54)


def _dag() -> DAG:
    return DAG("budget_test", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"))


def test_connectwise_tasks_default_to_the_pool_mapped_ones_too(monkeypatch):
    with _dag():
        sync = ConnectWiseSyncDevicesOperator(task_id="sync", settings={})
        sensor = ConnectWiseTicketClosedSensor(task_id="wait", ticket_id=1)
        fetch = AddigyFetchDevicesOperator(task_id="fetch", settings={}, policy={})
        # .partial() never runs __init__ at parse time: the pool must be set there as well
        apply = ConnectWiseApplyBindingOperator.partial(task_id="apply", settings={}).expand(batch=[{}])
        tickets = ConnectWiseCreateTicketOperator.partial(task_id="tickets", settings={}).expand_kwargs(
            [{"summary": "s"}]
        )
    assert (sync.pool, sensor.pool, apply.pool, tickets.pool) == ("connectwise",) * 4
    assert fetch.pool == "default_pool"  # the MDM only: no ConnectWise budget to share
    monkeypatch.setenv("AIRFLOW__CONNECTWISE__POOL", "cw_eu")  # the one place to change it
    with _dag():
        assert ConnectWiseSyncDevicesOperator(task_id="sync", settings={}).pool == "cw_eu"


def test_a_pool_named_on_the_task_or_in_default_args_wins():
    with DAG(
        "budget_test",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        default_args={"pool": "from_dag"},
    ):
        from_dag = ConnectWiseSyncDevicesOperator(task_id="a", settings={})
        mapped = ConnectWiseApplyBindingOperator.partial(task_id="b", settings={}).expand(batch=[{}])
        own = ConnectWiseSyncDevicesOperator(task_id="c", settings={}, pool="mine")
        own_mapped = ConnectWiseApplyBindingOperator.partial(task_id="d", settings={}, pool="mine").expand(
            batch=[{}]
        )
    assert (from_dag.pool, mapped.pool, own.pool, own_mapped.pool) == ("from_dag", "from_dag", "mine", "mine")


def test_a_task_spaces_its_requests_at_its_share_unless_told_otherwise(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CONNECTWISE__REQUESTS_PER_MINUTE", "900")
    with _dag():
        shared = ConnectWiseSyncDevicesOperator(task_id="a", settings={})
        double = ConnectWiseSyncDevicesOperator(task_id="b", settings={}, pool_slots=2)
        explicit = ConnectWiseSyncDevicesOperator(task_id="c", settings={}, requests_per_minute=77)
    assert shared.connectwise_requests_per_minute() == pytest.approx(210)
    assert double.connectwise_requests_per_minute() == pytest.approx(420)
    assert explicit.connectwise_requests_per_minute() == 77


def test_mapped_tasks_carry_their_name_template_into_the_serialized_dag():
    from airflow.serialization.serialized_objects import DagSerialization

    with _dag() as dag:
        ConnectWiseApplyBindingOperator.partial(task_id="apply", settings={}).expand(batch=[{}])
        AddigyFetchDevicesOperator.partial(task_id="fetch", settings={}).expand(policy=[{}])
        ConnectWiseCreateTicketOperator.partial(task_id="tickets", settings={}).expand_kwargs(
            [{"summary": "s"}]
        )
    tasks = {t["__var"]["task_id"]: t["__var"] for t in DagSerialization.to_dict(dag)["dag"]["tasks"]}
    templates = {task_id: task["partial_kwargs"].get("map_index_template") for task_id, task in tasks.items()}
    assert templates == {
        "apply": "{{ connectwise_batch }}",
        "fetch": "{{ connectwise_policy }}",
        "tickets": "{{ connectwise_ticket }}",
    }


def test_a_mapped_tasks_own_name_template_wins_over_the_operators_default():
    with _dag():
        named = ConnectWiseApplyBindingOperator.partial(
            task_id="named", settings={}, map_index_template="{{ custom }}"
        ).expand(batch=[{}])
        unnamed = ConnectWiseApplyBindingOperator.partial(
            task_id="unnamed", settings={}, map_index_template=None
        ).expand(batch=[{}])
        from_defaults = ConnectWiseApplyBindingOperator.partial(
            task_id="from_defaults", settings={}, default_args={"map_index_template": "{{ dflt }}"}
        ).expand(batch=[{}])
    assert named.map_index_template == "{{ custom }}"
    assert unnamed.map_index_template is None
    assert from_defaults.map_index_template == "{{ dflt }}"


def test_triggers_poll_within_the_reserved_share(monkeypatch):
    from airflow_provider_connectwise.triggers.tickets import ConnectWiseTicketClosedTrigger

    monkeypatch.setenv("AIRFLOW__CONNECTWISE__TRIGGER_REQUESTS_PER_MINUTE", "90")
    monkeypatch.setenv("AIRFLOW__CONNECTWISE__TRIGGERERS", "3")
    trigger = ConnectWiseTicketClosedTrigger(
        ticket_id=1, connectwise_conn_id="connectwise_default", poll_interval=1, deadline=0
    )
    assert trigger._hook()._requests_per_minute == pytest.approx(30)


def test_the_async_client_spaces_its_requests_without_blocking_the_loop():
    import asyncio
    import time

    import httpx

    from airflow_provider_connectwise.hooks._http import AsyncRestClient, RateBudget
    from airflow_provider_connectwise.hooks.connectwise import CONNECTWISE_ERRORS

    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(time.monotonic())
        return httpx.Response(200, json={"id": 1})

    client = AsyncRestClient(
        base_url="https://cw.example/",
        headers={},
        family=CONNECTWISE_ERRORS,
        budget=RateBudget(600),  # one request every 0.1 s
        transport=httpx.MockTransport(handler),
    )

    async def three_polls_and_a_ticker() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        running = asyncio.create_task(ticker())
        await asyncio.gather(*(client.request("GET", "t") for _ in range(3)))
        running.cancel()
        return ticks

    ticks = asyncio.run(three_polls_and_a_ticker())
    gaps = [b - a for a, b in zip(sent, sent[1:])]
    assert len(sent) == 3 and all(g >= 0.09 for g in gaps), gaps
    assert ticks >= 10  # the loop kept running while the polls waited for their slots


@pytest.mark.parametrize(
    ("slots", "says"),
    [
        (None, ["no pool 'connectwise'", 'airflow pools set connectwise 4 "ConnectWise rate budget"']),
        (8, ["up to 8 ConnectWise tasks", "up to 1,740", "429"]),
        (-1, ["any number of", "429"]),
        (2, ["only 2/4"]),
    ],
)
def test_the_pool_that_breaks_the_budget_is_named_with_the_fix(slots, says):
    problem = pool_problem(Budget(pool_slots=4), slots)
    assert problem is not None
    for text in says:
        assert text in problem


def test_a_pool_sized_as_the_budget_is_fine():
    assert pool_problem(Budget(pool_slots=6), 6) is None
