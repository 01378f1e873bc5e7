"""Cut the plans' write actions into batches across companies: one batch per mapped apply task."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from airflow_provider_connectwise.core import printable
from airflow_provider_connectwise.core.planning.records import Batch, CompanyPlan, DeviceAction

__all__ = ["cut_batches"]


def _companies_label(actions: Sequence[DeviceAction], names: Mapping[int, str]) -> str:
    ordered = list(dict.fromkeys(a.company_id for a in actions))
    first = printable(names.get(ordered[0], ""), 40) or f"company {ordered[0]}"
    return first if len(ordered) == 1 else f"{first} +{len(ordered) - 1} more"


def cut_batches(plans: Iterable[CompanyPlan], *, size: int = 500, slots: int = 1) -> list[Batch]:
    """Cut every plan's write actions into batches across companies, for mapped apply tasks.

    Batches hold at most ``size`` actions and come in a multiple of ``slots`` (the apply tasks
    that run at once) as long as there are enough actions, so every slot gets an equal share of
    the work and of the rate budget; a company with few writes no longer costs a task of its own.

    :param plans: the company plans.
    :param size: maximum actions per batch.
    :param slots: apply tasks running at the same time.
    """
    if size < 1 or slots < 1:
        raise ValueError(f"batch size and slots must be at least 1, got {size} and {slots}")
    plans = list(plans)
    writes = [action for plan in plans for action in plan.write_actions()]
    if not writes:
        return []
    names = {plan.company_id: plan.company_name for plan in plans}
    count = -(-len(writes) // size)
    count = min(len(writes), -(-count // slots) * slots)
    per_batch = -(-len(writes) // count)
    batches = []
    for number, start in enumerate(range(0, len(writes), per_batch)):
        chunk = tuple(writes[start : start + per_batch])
        companies = {a.company_id for a in chunk}
        only = next(iter(companies)) if len(companies) == 1 else None
        batches.append(Batch(only, _companies_label(chunk, names), number, start + 1, chunk))
    return batches
