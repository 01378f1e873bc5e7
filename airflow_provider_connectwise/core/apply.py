"""Execute planned actions through a writer (the ConnectWise hook) with bounded concurrency.

Every action yields one :class:`DeviceResult`: ``linked`` (created, updated, or already right),
``unlinked`` (deactivated: the device left the company's policies) or ``failed`` (with the reason).
One failing device never stops the others.

Decisions:

- A write that raises an ``Exception`` becomes a ``failed`` result whose error is
  ``str(exc)`` (the hook's errors carry no secrets), prefixed with what was attempted; it is also
  logged with its traceback, so a bug in a writer is visible rather than silently reported as a
  device failure. ``KeyboardInterrupt``, ``SystemExit`` and other ``BaseException`` s propagate;
  writes not yet started are then cancelled (writes in flight finish).
- The creates of a call go to the writer together (``create_configurations``: the hook's bulk
  path, which reads every device back and looks a lost answer up); each device gets its own
  outcome, so one refused item fails only its device. Updates and deactivations stay one
  ``patch_configuration`` (JSON Patch) per device: a bulk ``PUT`` replaces whole records and would
  wipe fields technicians own.
- A writer without ``create_configurations`` gets one ``create_configuration`` per device, with
  ``find_existing`` (its ``find_configuration`` for this company and agent id) so that a POST whose
  response was lost is looked up before it is sent again.
- A create answered without an integer ``id`` is ``failed``: the device cannot be called linked.
- A failure is *transient* (``DeviceResult.transient``) unless ConnectWise refused the device's own
  values (a 400 validation error): a retry of the task (Retry Pending) can cure a transient one,
  never a refused one, so only transient failures make the task retry.
- Results come back in the order of the actions, whatever order the writes finish in.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeGuard

from airflow_provider_connectwise.core.planning.records import ACTIONS, DeviceAction, DeviceRecord
from airflow_provider_connectwise.exceptions import ValidationError

__all__ = [
    "STATES",
    "BulkConfigurationWriter",
    "ConfigurationWriter",
    "CreateOutcome",
    "DeviceResult",
    "apply_actions",
    "result_without_write",
]

log = logging.getLogger(__name__)

State = Literal["linked", "failed", "unlinked"]
STATES: tuple[str, ...] = ("linked", "failed", "unlinked")


class ConfigurationWriter(Protocol):
    """What :func:`apply_actions` needs from the ConnectWise hook."""

    def create_configuration(
        self, body: dict[str, Any], *, find_existing: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any]:
        """POST a configuration and return it; call ``find_existing`` before re-sending a POST whose answer was lost."""
        ...

    def patch_configuration(self, configuration_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        """PATCH the given top-level fields (field -> value; references as ``{"id": n}``) and return the configuration."""
        ...

    def find_configuration(self, company_id: int, agentid: str) -> dict[str, Any] | None:
        """Return the company's configuration whose ``deviceIdentifier`` is the agent id, if any."""
        ...


class CreateOutcome(Protocol):
    """One body's outcome of a bulk create: the configuration ConnectWise holds, or its error."""

    @property
    def configuration(self) -> Mapping[str, Any] | None:
        """The created configuration (at least its ``id``), or ``None`` when it failed."""
        ...

    @property
    def error(self) -> BaseException | None:
        """Why this body was not created (ConnectWise's own error for the item)."""
        ...


class BulkConfigurationWriter(ConfigurationWriter, Protocol):
    """A writer that creates many configurations in one call (the hook's bulk path)."""

    def create_configurations(
        self, bodies: Sequence[dict[str, Any]], *, concurrency: int = 1
    ) -> Sequence[CreateOutcome]:
        """Create every body; return one outcome per body, in order, each confirmed by a read-back."""
        ...


@dataclass(frozen=True)
class DeviceResult(DeviceRecord):
    """The outcome for one device: what the Devices Binding table shows."""

    state: State
    error: str | None = None
    warnings: tuple[str, ...] = ()
    #: a failure a later try may cure (network, 5xx, 429, a lost answer); ``False`` for a device
    #: ConnectWise refused or that could not be planned
    transient: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (the XCom shape)."""
        return {
            **self._record_dict(),
            "state": self.state,
            "error": self.error,
            "warnings": list(self.warnings),
            "transient": self.transient,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceResult:
        """Rebuild a result from :meth:`to_dict` output.

        :param data: the dict.
        """
        if data.get("state") not in STATES or data.get("action") not in ACTIONS:
            raise ValueError(
                f"not a device result: state {data.get('state')!r}, action {data.get('action')!r}"
            )
        return cls(
            **cls._record_kwargs(data),
            state=data["state"],
            error=data.get("error"),
            warnings=tuple(data.get("warnings", ())),
            transient=data.get("transient") is True,
        )


def _result(
    action: DeviceAction,
    state: State,
    *,
    configuration_id: int | None = None,
    error: str | None = None,
    transient: bool = False,
) -> DeviceResult:
    return DeviceResult(
        agentid=action.agentid,
        device_name=action.device_name,
        policy_ids=action.policy_ids,
        company_id=action.company_id,
        action=action.action,
        configuration_id=configuration_id if configuration_id is not None else action.configuration_id,
        state=state,
        error=error,
        warnings=action.warnings,
        transient=transient,
    )


def result_without_write(action: DeviceAction) -> DeviceResult:
    """Return the result of an action that writes nothing (``none``, ``fail``, a done deactivation).

    :param action: an action whose ``is_write`` is false.
    """
    if action.is_write:
        raise ValueError(f"{action.action} action of {action.agentid!r} writes; apply it")
    if action.action == "fail":
        return _result(action, "failed", error=action.error or "the device could not be planned")
    return _result(action, "unlinked" if action.action == "deactivate" else "linked")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def _apply_one(action: DeviceAction, writer: ConfigurationWriter) -> DeviceResult:
    if action.action == "create":
        attempt = "could not create the configuration"
    else:
        attempt = f"could not {'deactivate' if action.action == 'deactivate' else 'update'} configuration {action.configuration_id}"
    try:
        if action.action == "create":
            assert action.agentid is not None, "a create action always has an agent id"
            find_existing = functools.partial(writer.find_configuration, action.company_id, action.agentid)
            created = writer.create_configuration(dict(action.desired), find_existing=find_existing)
            configuration_id = created.get("id") if isinstance(created, Mapping) else None
            if not isinstance(configuration_id, int) or isinstance(configuration_id, bool):
                return _result(
                    action,
                    "failed",
                    error=f"{attempt}: ConnectWise answered without a configuration id",
                    transient=True,
                )
        else:
            if action.configuration_id is None:
                return _result(action, "failed", error=f"{attempt}: the action names no configuration")
            writer.patch_configuration(action.configuration_id, dict(action.changes))
            configuration_id = action.configuration_id
    except Exception as exc:
        log.warning(
            "%s for device %r (agent id %s)", attempt, action.device_name, action.agentid, exc_info=True
        )
        return _result(
            action,
            "failed",
            error=f"{attempt}: {_describe(exc)}",
            transient=not isinstance(exc, ValidationError),
        )
    return _result(
        action, "unlinked" if action.action == "deactivate" else "linked", configuration_id=configuration_id
    )


def _is_bulk(writer: ConfigurationWriter) -> TypeGuard[BulkConfigurationWriter]:
    return hasattr(writer, "create_configurations")


def _apply_creates(
    actions: Sequence[DeviceAction], writer: BulkConfigurationWriter, concurrency: int
) -> list[DeviceResult]:
    """Create the devices together; each gets the outcome the writer confirmed for it."""
    attempt = "could not create the configuration"
    try:
        outcomes = list(
            writer.create_configurations([dict(a.desired) for a in actions], concurrency=concurrency)
        )
        if len(outcomes) != len(actions):
            raise RuntimeError(f"the writer answered {len(outcomes)} outcomes for {len(actions)} creates")
    except Exception as exc:
        log.warning("%s for %d devices", attempt, len(actions), exc_info=True)
        transient = not isinstance(exc, ValidationError)
        return [
            _result(a, "failed", error=f"{attempt}: {_describe(exc)}", transient=transient) for a in actions
        ]
    results = []
    for action, outcome in zip(actions, outcomes):
        configuration = outcome.configuration
        configuration_id = configuration.get("id") if isinstance(configuration, Mapping) else None
        if outcome.error is not None:
            results.append(
                _result(
                    action,
                    "failed",
                    error=f"{attempt}: {_describe(outcome.error)}",
                    # ConnectWise refusing this item is lasting; an unconfirmed create is not
                    transient=not isinstance(outcome.error, ValidationError),
                )
            )
        elif not isinstance(configuration_id, int) or isinstance(configuration_id, bool):
            results.append(
                _result(
                    action,
                    "failed",
                    error=f"{attempt}: ConnectWise answered without a configuration id",
                    transient=True,
                )
            )
        else:
            results.append(_result(action, "linked", configuration_id=configuration_id))
    return results


def apply_actions(
    actions: Iterable[DeviceAction | Mapping[str, Any]], writer: ConfigurationWriter, *, concurrency: int = 8
) -> list[DeviceResult]:
    """Apply the write actions with at most ``concurrency`` writes in flight; one result per action.

    :param actions: planned actions (or their dicts, e.g. a batch pulled from XCom); actions that
        write nothing get their result without calling the writer.
    :param writer: the ConnectWise hook, or anything with the :class:`ConfigurationWriter` methods
        (and :class:`BulkConfigurationWriter`'s ``create_configurations`` for creates in bulk).
    :param concurrency: maximum number of simultaneous writes (at least 1).
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    items = [a if isinstance(a, DeviceAction) else DeviceAction.from_dict(a) for a in actions]
    results: list[DeviceResult | None] = [None if a.is_write else result_without_write(a) for a in items]
    writes = [position for position, action in enumerate(items) if action.is_write]
    if not writes:
        return [r for r in results if r is not None]
    bulk = _is_bulk(writer)
    creates = [p for p in writes if bulk and items[p].action == "create"]
    singles = [p for p in writes if not (bulk and items[p].action == "create")]
    executor = ThreadPoolExecutor(max_workers=min(concurrency, len(writes)), thread_name_prefix="cw-apply")
    try:
        futures: dict[Future[Any], Any] = {
            executor.submit(_apply_one, items[position], writer): position for position in singles
        }
        # creates is empty unless the writer is bulk; one job: the writer chunks and paces them itself
        if creates and _is_bulk(writer):
            job = executor.submit(_apply_creates, [items[p] for p in creates], writer, concurrency)
            futures[job] = tuple(creates)
        for future in as_completed(futures):
            # .result() re-raises a BaseException (KeyboardInterrupt, SystemExit) from a worker.
            where = futures[future]
            if isinstance(where, tuple):
                for position, result in zip(where, future.result()):
                    results[position] = result
            else:
                results[where] = future.result()
    finally:
        # On an interruption, writes not yet started are dropped; those in flight finish.
        executor.shutdown(wait=True, cancel_futures=True)
    return [r for r in results if r is not None]
