"""One ConnectWise rate budget per account, shared by every task through an Airflow pool.

ConnectWise throttles an account (about 1,000 requests a minute), not a process. Every provider
task that calls ConnectWise runs in one Airflow pool (``connectwise`` by default): the scheduler
never runs more of them at once than the pool has slots, on any number of Celery or Kubernetes
workers. Each running task spaces its own requests at its share of the budget::

    task share    = (requests_per_minute - trigger_requests_per_minute) * task pool_slots / pool_slots
    trigger share = trigger_requests_per_minute / triggerers   (per triggerer process)

so the account never sees more than ``requests_per_minute`` in any 60 seconds. Tasks cannot read
the pool's size under Airflow 3's Task SDK (they have no database access and the Execution API
has no pool route), so ``pool_slots`` is a provider setting that must equal the pool's size
(``airflow pools set connectwise 4 ...``). Deferred sensors poll from the triggerer, outside
every pool: they get a reserved, bounded share.

Settings (``[connectwise]`` in ``airflow.cfg`` or ``AIRFLOW__CONNECTWISE__<NAME>``):
``requests_per_minute`` (900), ``pool`` (``connectwise``), ``pool_slots`` (4),
``trigger_requests_per_minute`` (60), ``triggerers`` (1).
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator

log = logging.getLogger(__name__)

SECTION = "connectwise"
DEFAULT_POOL = "connectwise"
DEFAULTS: dict[str, str] = {
    "requests_per_minute": "900",
    "pool": DEFAULT_POOL,
    "pool_slots": "4",
    "trigger_requests_per_minute": "60",
    "triggerers": "1",
}


@dataclass(frozen=True)
class Budget:
    """The account's budget and how it is split between pooled tasks and triggers.

    :param requests_per_minute: the ConnectWise account's budget (all DAGs, all workers).
    :param pool: the Airflow pool every ConnectWise task runs in.
    :param pool_slots: that pool's size (keep equal to the pool's slots).
    :param trigger_requests_per_minute: reserved for deferred sensors' polls, all triggerers together.
    :param triggerers: how many triggerer processes run.
    """

    requests_per_minute: float = 900.0
    pool: str = DEFAULT_POOL
    pool_slots: int = 4
    trigger_requests_per_minute: float = 60.0
    triggerers: int = 1

    def __post_init__(self) -> None:
        if not self.requests_per_minute > 0:
            raise ValueError(
                f"[{SECTION}] requests_per_minute must be above 0, not {self.requests_per_minute}"
            )
        if self.pool_slots < 1:
            raise ValueError(f"[{SECTION}] pool_slots must be at least 1, not {self.pool_slots}")
        if self.triggerers < 1:
            raise ValueError(f"[{SECTION}] triggerers must be at least 1, not {self.triggerers}")
        if not 0 <= self.trigger_requests_per_minute < self.requests_per_minute:
            raise ValueError(
                f"[{SECTION}] trigger_requests_per_minute must be at least 0 and below requests_per_minute "
                f"({self.requests_per_minute:g}), not {self.trigger_requests_per_minute:g}"
            )
        if not self.pool.strip():
            raise ValueError(f"[{SECTION}] pool must not be empty")

    def task_share(self, task_pool_slots: int = 1) -> float:
        """Requests a minute for one running task that occupies ``task_pool_slots`` of the pool."""
        slots = min(max(int(task_pool_slots), 1), self.pool_slots)
        return (self.requests_per_minute - self.trigger_requests_per_minute) * slots / self.pool_slots

    def trigger_share(self) -> float:
        """Requests a minute for all ConnectWise triggers of one triggerer process together."""
        return self.trigger_requests_per_minute / self.triggerers


def budget_from(values: dict[str, Any]) -> Budget:
    """Build a :class:`Budget` from setting texts; a bad value fails naming the setting.

    :param values: setting name to value (missing names take the defaults).
    """
    merged = {**DEFAULTS, **{k: v for k, v in values.items() if v not in (None, "")}}
    converted: dict[str, Any] = {"pool": str(merged["pool"]).strip()}
    for name, kind in (
        ("requests_per_minute", float),
        ("pool_slots", int),
        ("trigger_requests_per_minute", float),
        ("triggerers", int),
    ):
        try:
            converted[name] = kind(str(merged[name]).strip())
        except ValueError:
            raise ValueError(
                f"[{SECTION}] {name} must be a{'n integer' if kind is int else ' number'}, "
                f"not {merged[name]!r}"
            ) from None
    return Budget(**converted)


def configured_budget() -> Budget:
    """The budget from Airflow's configuration (read when a task or trigger runs, never at parse)."""
    from airflow.sdk.configuration import conf

    return budget_from({name: conf.get(SECTION, name, fallback=None) for name in DEFAULTS})


def pool_problem(budget: Budget, slots: int | None) -> str | None:
    """What is wrong with the ConnectWise pool as Airflow holds it, for a person (``None``: nothing).

    :param budget: the configured budget (its ``pool`` and ``pool_slots``).
    :param slots: the pool's slots in Airflow (``None``: no such pool; -1: unlimited).
    """
    create = f'airflow pools set {budget.pool} {budget.pool_slots} "ConnectWise rate budget"'
    if slots is None:
        return (
            f"Airflow has no pool {budget.pool!r}: ConnectWise tasks stay scheduled and never run until it "
            f"exists. Create it with: {create}"
        )
    if slots < 0 or slots > budget.pool_slots:
        running = "any number of" if slots < 0 else f"up to {slots}"
        most = (
            ""
            if slots < 0
            else f" (up to {budget.task_share() * slots + budget.trigger_requests_per_minute:,.0f})"
        )
        return (
            f"pool {budget.pool!r} runs {running} ConnectWise tasks at once, but each takes 1/{budget.pool_slots} "
            f"of the account's {budget.requests_per_minute:,.0f} requests a minute ([connectwise] pool_slots = "
            f"{budget.pool_slots}): together they can exceed it{most} and ConnectWise answers 429. "
            f"Make the two equal."
        )
    if slots < budget.pool_slots:
        return (
            f"pool {budget.pool!r} has {slots} slots and [connectwise] pool_slots is {budget.pool_slots}: the "
            f"tasks use only {slots}/{budget.pool_slots} of the account's budget. Make the two equal."
        )
    return None


def configured_pool() -> str:
    """The pool ConnectWise tasks run in unless a task names another (parse time: no I/O)."""
    from airflow.sdk.configuration import conf

    return (conf.get(SECTION, "pool", fallback=None) or DEFAULT_POOL).strip() or DEFAULT_POOL


def _has_pool(kwargs: dict[str, Any]) -> bool:
    """Whether the task (or its DAG's / task group's ``default_args``) already names a pool."""
    if kwargs.get("pool"):
        return True
    if (kwargs.get("default_args") or {}).get("pool"):
        return True
    from airflow.sdk.bases.operator import get_merged_defaults
    from airflow.sdk.definitions._internal.contextmanager import DagContext, TaskGroupContext

    dag = kwargs.get("dag") or DagContext.get_current()
    group = kwargs.get("task_group") or (TaskGroupContext.get_current(dag) if dag else None)
    defaults, _ = get_merged_defaults(dag=dag, task_group=group, task_params=None, task_default_args=None)
    return bool(defaults.get("pool"))


def _default_map_index_template(cls: type, partial_kwargs: dict[str, Any]) -> None:
    """Give a mapped task the ``map_index_template`` default of its operator's own ``__init__``.

    Compatibility shim: Airflow 3.3.2's ``.partial()`` (task SDK 1.3.2) fills the BaseOperator
    arguments a task leaves out from the defaults in the operator class's ``__init__`` signatures;
    Airflow 3.2.0's (task SDK 1.2.0) only from BaseOperator's own, so there a mapped binding batch,
    policy or ticket was named by its map index alone. A value the task or its ``default_args``
    gives is kept; on 3.3.2 the template is already there and this changes nothing.
    """
    if partial_kwargs.get("map_index_template") is not None:
        return
    from airflow.sdk import BaseOperator

    mro = cls.mro()
    for base in mro[: mro.index(BaseOperator)]:  # the nearest class's default wins
        init = base.__dict__.get("__init__")
        if init is None:
            continue
        parameter = inspect.signature(init).parameters.get("map_index_template")
        if parameter is not None and parameter.default is not inspect.Parameter.empty:
            partial_kwargs["map_index_template"] = parameter.default
            return


class ConnectWisePoolMixin:
    """Put a task in the ConnectWise pool and give it its share of the account's budget.

    Mixed into every provider operator and sensor that calls ConnectWise. The pool is the
    setting ``[connectwise] pool`` unless the task, its ``default_args`` or its DAG's name one;
    it is set for ``.partial().expand()`` too, whose ``__init__`` runs only on a worker.
    An operator's ``requests_per_minute`` overrides its share (it then counts on its own).
    """

    #: False for the provider's tasks that only call the MDM (no pool needed).
    uses_connectwise: ClassVar[bool] = True

    #: set by operators that take ``requests_per_minute`` (an explicit share)
    requests_per_minute: float | None = None

    # Only ``**kwargs`` here: Airflow validates .partial() arguments against the operators' own
    # (metaclass-wrapped) signatures, which this plain mixin's is not.
    def __init__(self, **kwargs: Any) -> None:
        if self.uses_connectwise and not _has_pool(kwargs):
            kwargs["pool"] = configured_pool()
        super().__init__(**kwargs)

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:
        """Like ``BaseOperator.partial``, with the ConnectWise pool as the default pool."""
        from airflow.sdk.bases.operator import partial as sdk_partial

        if cls.uses_connectwise and not _has_pool(kwargs):
            kwargs["pool"] = configured_pool()
        # The mixin is only ever mixed into a BaseOperator subclass, which a mixin cannot declare.
        partial = sdk_partial(cast("type[BaseOperator]", cls), **kwargs)
        if "map_index_template" not in kwargs:
            _default_map_index_template(cls, partial.kwargs)
        return partial

    def connectwise_requests_per_minute(self) -> float:
        """This task's requests a minute: its ``requests_per_minute``, else its share of the pool's."""
        if self.requests_per_minute is not None:
            return float(self.requests_per_minute)
        budget = configured_budget()
        pool = getattr(self, "pool", None)
        share = budget.task_share(getattr(self, "pool_slots", 1) or 1)
        if pool != budget.pool:
            log.warning(
                "task runs in pool %r, not the ConnectWise pool %r: its share (%.4g/min) assumes that "
                "pool also has [connectwise] pool_slots = %d slots",
                pool,
                budget.pool,
                share,
                budget.pool_slots,
            )
        else:
            log.info(
                "ConnectWise budget %.4g/min for the account; pool %r of %d slots "
                "([connectwise] pool_slots: keep it equal to the pool's size); this task %.4g/min",
                budget.requests_per_minute,
                budget.pool,
                budget.pool_slots,
                share,
            )
        return share
