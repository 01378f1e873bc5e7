"""Operator construction rules and templated fields (behaviour is covered end to end in tests/flows)."""

from __future__ import annotations

import pytest
from airflow.exceptions import AirflowProviderDeprecationWarning

from airflow_provider_connectwise.operators.binding import (
    ConnectWiseApplyBindingOperator,
    ConnectWisePlanBindingOperator,
    ConnectWiseSyncDevicesOperator,
)
from airflow_provider_connectwise.operators.settings import ConnectWiseValidateSettingsOperator
from airflow_provider_connectwise.operators.tickets import (
    ConnectWiseCloseTicketOperator,
    ConnectWiseCreateTicketOperator,
)


@pytest.mark.parametrize(
    "sources",
    [{}, {"settings": {"a": 1}, "settings_file": "x.yaml"}, {"settings": {"a": 1}, "settings_variable": "v"}],
)
def test_validate_takes_settings_or_a_variable_and_or_a_file(sources):
    with pytest.raises(ValueError, match="either settings, or settings_variable and/or settings_file"):
        ConnectWiseValidateSettingsOperator(task_id="validate", **sources)


def test_the_variable_wins_over_the_file_when_it_exists(monkeypatch, tmp_path):
    import json

    from airflow.sdk.exceptions import AirflowFailException

    op = ConnectWiseValidateSettingsOperator(
        task_id="v", settings_variable="cw_settings", settings_file="ex.yaml"
    )
    monkeypatch.delenv("AIRFLOW_VAR_CW_SETTINGS", raising=False)
    assert op._source() == "ex.yaml"
    monkeypatch.setenv("AIRFLOW_VAR_CW_SETTINGS", json.dumps({"monitoring": {}}))
    assert op._source() == {"monitoring": {}}
    monkeypatch.delenv("AIRFLOW_VAR_CW_SETTINGS")
    only_variable = ConnectWiseValidateSettingsOperator(task_id="v", settings_variable="cw_settings")
    with pytest.raises(AirflowFailException, match="'cw_settings' is not set"):
        only_variable._source()


def test_templated_fields():
    assert {"summary", "description", "external_ref", "agentid", "company"} <= set(
        ConnectWiseCreateTicketOperator.template_fields
    )
    assert {"ticket_id", "external_ref"} <= set(ConnectWiseCloseTicketOperator.template_fields)
    assert {"policy", "company", "plan_only", "devices"} <= set(
        ConnectWiseSyncDevicesOperator.template_fields
    )
    assert "batch" in ConnectWiseApplyBindingOperator.template_fields


def test_ticket_operators_carry_the_connectwise_link():
    for operator in (ConnectWiseCreateTicketOperator, ConnectWiseCloseTicketOperator):
        assert [link.name for link in operator.operator_extra_links] == ["ConnectWise ticket"]


def test_hooks_are_built_lazily_no_io_at_construction(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_CONNECTWISE_DEFAULT", raising=False)
    op = ConnectWiseCreateTicketOperator(task_id="t", settings={}, summary="x")
    assert "hook" not in op.__dict__  # the connection is read when the task runs, not at parse time


@pytest.mark.parametrize("operator", [ConnectWiseSyncDevicesOperator, ConnectWisePlanBindingOperator])
def test_plan_only_no_longer_hides_base_operator_dry_run(operator, caplog):
    kwargs = {"policies": [], "devices": []} if operator is ConnectWisePlanBindingOperator else {}
    task = operator(task_id="t", settings={}, plan_only="{{ params.dry_run }}", **kwargs)
    assert task.plan_only == "{{ params.dry_run }}"
    task.dry_run()  # BaseOperator's: renders nothing, logs the templates (it was shadowed by a bool)
    with pytest.warns(AirflowProviderDeprecationWarning, match="use plan_only"):
        old = operator(task_id="u", settings={}, dry_run=True, **kwargs)
    assert old.plan_only is True and callable(old.dry_run)
