"""The dry run: a company's plan as a text table for a task log."""

from __future__ import annotations

from airflow_provider_connectwise.core import printable, text_table
from airflow_provider_connectwise.core.planning.records import CompanyPlan, DeviceAction

__all__ = ["render_plan"]


def _note(action: DeviceAction) -> str:
    return "; ".join(([action.error] if action.error else []) + list(action.warnings))


def render_plan(plan: CompanyPlan) -> str:
    """Render a plan as a text table (the dry run), headed by the company and the counts.

    :param plan: the plan.
    """
    company = printable(plan.company_name, 60) or "(no name)"
    counts = ", ".join(f"{name} {n}" for name, n in plan.counts.items())
    rows = [
        [
            action.device_name,
            action.agentid or "",
            ", ".join(action.policy_ids),
            action.action,
            action.configuration_id or "",
            ", ".join(action.changes) if action.action != "create" else "(new)",
            _note(action),
        ]
        for action in plan.actions
    ]
    table = text_table(
        ["device", "agent id", "policies", "action", "configuration", "changes", "notes"],
        rows,
        max_widths={0: 40, 1: 40, 2: 30, 5: 60, 6: 100},
        wrap=(5, 6),
    )
    lines = [f"{company} (company {plan.company_id}): {counts}", table]
    lines.extend(f"warning: {printable(warning, 300)}" for warning in plan.warnings)
    return "\n".join(lines)
