"""Bulk creates of configurations for :class:`~.connectwise.ConnectWiseHook` (``POST .../bulk``).

What the hook promises for ``create_configurations(bodies)``: one :class:`CreatedConfiguration`
per body, in order, each either the configuration ConnectWise holds for that device (read back)
or ConnectWise's own error for that item. How:

* bodies go out in chunks of ``chunk_size`` (one ``POST /company/configurations/bulk`` each,
  through the hook's one request path: budget, retries, error mapping);
* a chunk refused as too large (413) or as a whole (400) is halved and each half sent again, so
  the server's real limit is learned (later chunks start at the size that worked) and one bad
  body fails only its own device;
* the 207 body is never trusted alone (the document types it as one configuration): after every
  chunk the chunk's configurations are read back by ``deviceIdentifier`` (safe conditions from
  ``core.conditions``), and a device is linked only when its configuration is found; the 207's
  per-item error, when it has one, says why the others failed;
* a chunk whose answer was lost (reset, 5xx after the write) is looked up the same way and never
  re-sent blindly: only the devices confirmed absent are sent again (each round looked up first,
  at most as many rounds as the retry policy has attempts);
* a server without the route (404/405/501, older on-premise) is detected on the first chunk; the
  hook then creates one ``POST`` per device (with the usual lost-answer look-up) for the rest of
  its life, and logs it once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_connectwise.core.conditions import Field, SafeQuery
from airflow_provider_connectwise.exceptions import (
    ApiError,
    ConnectWiseError,
    ConnectWiseNotFoundError,
    ConnectWiseServerError,
    ConnectWiseValidationError,
    ServerError,
    TransportError,
)

if TYPE_CHECKING:
    from airflow_provider_connectwise.hooks._configurations import ConfigurationMethods

log = logging.getLogger(__name__)

#: Bodies per bulk request. 200 keeps one request's body near 100 KB and its server-side work
#: short (each item is validated like a single POST), while the read-back, which needs about one
#: GET per 30-40 agent ids (URLs stay under ConnectWise's ~2000 characters), dominates anyway.
DEFAULT_BULK_CHUNK_SIZE = 200
BULK_PATH = "company/configurations/bulk"
#: What a server without the bulk route answers (cloud 404, on-premise IIS 405, a proxy 501).
NO_BULK_ROUTE = frozenset({404, 405, 501})
READ_BACK_FIELDS = ("id", "deviceIdentifier", "company/id", "managementLink")


@dataclass(frozen=True)
class CreatedConfiguration:
    """The outcome of one body of :meth:`ConnectWiseHook.create_configurations`.

    :param configuration: the configuration read back from ConnectWise (``id``,
        ``deviceIdentifier``, ``company``, ``managementLink``) when the device is linked.
    :param error: ConnectWise's error for this item (or why its creation cannot be confirmed).
    """

    configuration: dict[str, Any] | None = None
    error: ConnectWiseError | None = None

    @property
    def id(self) -> int | None:
        """The created configuration's id, or ``None``."""
        return self.configuration.get("id") if self.configuration else None


class BulkCreator:
    """One hook's bulk state: whether the server has the route, and the chunk size that works.

    :param hook: the hook whose request path, reads and single POST are used.
    :param chunk_size: bodies per bulk request (halved when the server refuses a chunk).
    """

    def __init__(self, hook: ConfigurationMethods, chunk_size: int = DEFAULT_BULK_CHUNK_SIZE) -> None:
        self.hook = hook
        self.chunk_size = valid_chunk_size(chunk_size)
        self.supported: bool | None = None  # None: not known yet

    def create(
        self, bodies: Sequence[Mapping[str, Any]], *, concurrency: int = 1
    ) -> list[CreatedConfiguration]:
        """Create every body; return one result per body, in order.

        :param bodies: configurations (``name``, ``type``, ``company`` and ``deviceIdentifier``).
        :param concurrency: simultaneous single POSTs when the server has no bulk route.
        """
        results: list[CreatedConfiguration | None] = [None] * len(bodies)
        pending = list(range(len(bodies)))
        while pending and self.supported is not False:
            size = self.chunk_size
            chunk, pending = pending[:size], pending[size:]
            for index, result in self._create_chunk(bodies, chunk).items():
                results[index] = result
            if self.supported is False:
                pending = [i for i in range(len(bodies)) if results[i] is None]
        if pending:
            for index, result in zip(pending, self._one_by_one(bodies, pending, concurrency)):
                results[index] = result
        return [
            r if r is not None else CreatedConfiguration(error=_unconfirmed("was not sent")) for r in results
        ]

    # -- one chunk ----------------------------------------------------------------------------

    def _create_chunk(
        self, bodies: Sequence[Mapping[str, Any]], chunk: list[int], *, lost: int = 0
    ) -> dict[int, CreatedConfiguration]:
        try:
            # Without find_existing the request path never re-sends a POST that may have been
            # applied: it raises ConnectWiseResponseLostError, and the chunk is looked up here.
            answer = self.hook.client.request(
                "POST", self.hook._api(BULK_PATH), json_body=[dict(bodies[i]) for i in chunk]
            )
        except ConnectWiseError as exc:
            return self._refused(bodies, chunk, exc, lost=lost)
        self.supported = True
        item_errors = _item_errors(answer.data, len(chunk))
        found = self._read_back(bodies, chunk)
        out = {}
        for position, index in enumerate(chunk):
            if index in found:
                out[index] = CreatedConfiguration(configuration=found[index])
            else:
                out[index] = CreatedConfiguration(
                    error=item_errors.get(position)
                    or _unconfirmed("is not in ConnectWise after the bulk POST")
                )
        return out

    def _refused(
        self, bodies: Sequence[Mapping[str, Any]], chunk: list[int], exc: ConnectWiseError, *, lost: int
    ) -> dict[int, CreatedConfiguration]:
        if exc.status in NO_BULK_ROUTE and self.supported is None:
            self.supported = False
            log.warning(
                "ConnectWise has no POST /%s (HTTP %s): creating configurations with one POST per "
                "device for the rest of this run",
                BULK_PATH,
                exc.status,
            )
            return {}
        if _may_have_applied(exc):
            return self._after_lost_answer(bodies, chunk, str(exc), lost=lost)
        if isinstance(exc, ConnectWiseValidationError) and exc.status in (400, 413) and len(chunk) > 1:
            if exc.status == 413:
                self.chunk_size = max(1, min(self.chunk_size, len(chunk) // 2))
                log.info(
                    "ConnectWise refused %d configurations in one request; sending %d",
                    len(chunk),
                    self.chunk_size,
                )
            out: dict[int, CreatedConfiguration] = {}
            rest = chunk
            while rest:  # a 413 may shrink the size again while the pieces go out
                size = self.chunk_size if exc.status == 413 else -(-len(chunk) // 2)
                piece, rest = rest[:size], rest[size:]
                out.update(self._create_chunk(bodies, piece, lost=lost))
            return out
        return {i: CreatedConfiguration(error=exc) for i in chunk}

    def _after_lost_answer(
        self, bodies: Sequence[Mapping[str, Any]], chunk: list[int], why: str, *, lost: int
    ) -> dict[int, CreatedConfiguration]:
        """Look the chunk up; send again only the devices confirmed absent (as often as the retry
        policy's attempts allow: each round is confirmed by a look-up first)."""
        found = self._read_back(bodies, chunk)
        log.info("bulk create of %d configurations: %s; %d found by a look-up", len(chunk), why, len(found))
        out = {i: CreatedConfiguration(configuration=found[i]) for i in chunk if i in found}
        absent = [i for i in chunk if i not in found]
        if absent and lost + 1 < self.hook.client.retry.max_attempts:
            out.update(self._create_chunk(bodies, absent, lost=lost + 1))
        elif absent:
            error = _unconfirmed(f"could not be confirmed ({why}; {lost + 1} answers lost); not sent again")
            out.update({i: CreatedConfiguration(error=error) for i in absent})
        return out

    # -- reading back -------------------------------------------------------------------------

    def _read_back(self, bodies: Sequence[Mapping[str, Any]], chunk: list[int]) -> dict[int, dict[str, Any]]:
        """The configuration ConnectWise holds for each body of the chunk (by company and agent id)."""
        agentids = [(_company(bodies[i]), str(bodies[i].get("deviceIdentifier") or ""), i) for i in chunk]
        wanted: dict[tuple[Any, str], list[int]] = {}
        for company, agentid, index in agentids:
            if agentid:
                wanted.setdefault((company, agentid.casefold()), []).append(index)
        by_device = SafeQuery.one_of("deviceIdentifier", [a for _, a, _ in agentids if a], fold=True)
        candidates = [
            c
            for condition in by_device.clauses
            for c in self.hook.iter_configurations(condition, READ_BACK_FIELDS)
        ]
        # an agent id that cannot be quoted safely is never pasted into a condition: its company's
        # configurations are read (once per company) and matched here instead
        unquoted = set(by_device.unquoted)
        for company_id in sorted({c for c, a, _ in agentids if a in unquoted and isinstance(c, int)}):
            candidates += self.hook.iter_configurations(Field("company/id").eq(company_id), READ_BACK_FIELDS)
        best: dict[tuple[Any, str], dict[str, Any]] = {}
        for configuration in candidates:
            key = (_company(configuration), str(configuration.get("deviceIdentifier") or "").casefold())
            indexes = wanted.get(key)
            if not indexes:
                continue
            link = str(bodies[indexes[0]].get("managementLink") or "")
            current = best.get(key)
            if current is None or _rank(configuration, link) < _rank(current, link):
                best[key] = configuration
        return {i: best[key] for key, indexes in wanted.items() if key in best for i in indexes}

    # -- without the bulk route ---------------------------------------------------------------

    def _one_by_one(
        self, bodies: Sequence[Mapping[str, Any]], indexes: list[int], concurrency: int
    ) -> list[CreatedConfiguration]:
        def one(index: int) -> CreatedConfiguration:
            body = bodies[index]
            find: Callable[[], Any] | None = None
            if body.get("deviceIdentifier"):
                find = functools.partial(
                    self.hook.find_configuration, _company(body), str(body["deviceIdentifier"])
                )
            try:
                created = self.hook.create_configuration(body, find_existing=find)
            except ConnectWiseError as exc:
                return CreatedConfiguration(error=exc)
            if not isinstance(created, Mapping) or not isinstance(created.get("id"), int):
                return CreatedConfiguration(error=_unconfirmed("was answered without a configuration id"))
            return CreatedConfiguration(configuration=dict(created))

        if concurrency <= 1 or len(indexes) <= 1:
            return [one(i) for i in indexes]
        with ThreadPoolExecutor(min(concurrency, len(indexes)), thread_name_prefix="cw-create") as pool:
            return list(pool.map(one, indexes))


def valid_chunk_size(chunk_size: int) -> int:
    """``chunk_size`` if it is at least 1 (checked when the hook is made, not at the first create)."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    return chunk_size


def _company(record: Mapping[str, Any]) -> Any:
    company = record.get("company")
    return company.get("id") if isinstance(company, Mapping) else None


def _rank(configuration: Mapping[str, Any], link: str) -> tuple[bool, int]:
    ours = str(configuration.get("managementLink") or "").casefold() == link.casefold()
    cid = configuration.get("id")
    return (not ours, cid if isinstance(cid, int) else 1 << 62)


def _may_have_applied(exc: ApiError) -> bool:
    if isinstance(exc, TransportError):
        return exc.sent
    return isinstance(exc, ServerError)


def _unconfirmed(what: str) -> ConnectWiseError:
    return ConnectWiseServerError(f"the configuration {what}", method="POST", path=BULK_PATH)


def _item_errors(data: Any, size: int) -> dict[int, ConnectWiseError]:
    """Per-item errors of a 207 ``BulkResult`` body, by position; ``{}`` for any other shape."""
    payload = data.get("payload") if isinstance(data, Mapping) else data
    if not isinstance(payload, list):
        return {}
    errors: dict[int, ConnectWiseError] = {}
    for position, item in enumerate(payload):
        if not isinstance(item, Mapping) or item.get("success") is not False:
            continue
        index = item.get("originalIndex", position)
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < size:
            continue
        errors[index] = _error_of(item)
    return errors


def _error_of(item: Mapping[str, Any]) -> ConnectWiseError:
    raw_error = item.get("error")
    error: Mapping[str, Any] = raw_error if isinstance(raw_error, Mapping) else {}
    status = item.get("statusCode")
    status = status if isinstance(status, int) and not isinstance(status, bool) else 400
    raw = error.get("errors")
    field_errors = [e for e in raw if isinstance(e, Mapping)] if isinstance(raw, list) else []
    code = error.get("code")
    cls: type[ConnectWiseError] = ConnectWiseValidationError
    if status == 404:
        cls = ConnectWiseNotFoundError
    elif status >= 500:
        cls = ConnectWiseServerError
    return cls(
        str(error.get("message") or "the item was refused"),
        method="POST",
        path=BULK_PATH,
        status=status,
        code=str(code) if code is not None else None,
        errors=field_errors,
    )
