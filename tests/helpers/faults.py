"""A seeded mix of every fault kind the sandbox knows, for soak tests.

The sandbox's own ``FaultConfig`` draws 500/503/reset/lost faults with one RNG; a soak also wants
429s (JSON and HTML, with ``Retry-After``) and every "lost after commit" variant at once. This
injector plugs into a running sandbox (``FaultMix(...).install(sb)``) in place of its
``FaultInjector``: queued one-shot faults still win, then a seeded RNG fails a fixed share of the
in-scope requests with a kind drawn by weight. It counts what it injected, by kind and by service.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
from collections import Counter
from collections.abc import Iterator, Mapping

from airflow_provider_connectwise.sandbox.faults import FAULT_KINDS, FaultInjector

#: Relative weights of the fault kinds (20% of requests fail, see ``FaultMix.rate``): 503, 500 with
#: ConnectWise's "timeout" text (both retried), a plain 500 (never retried: the task retries), 429
#: with ``Retry-After`` (a JSON body and an HTML page), connection resets, and requests applied
#: whose answer is then lost (reset, 504, or 500).
SOAK_MIX: Mapping[str, float] = {
    "503": 3,
    "500-timeout": 2,
    "500": 0.5,
    "reset": 3,
    "lost": 3,
    "lost-504": 2,
    "lost-500": 2,
    "429": 3,
    "429-html": 1.5,
}
#: Kinds drawn for writes only: "applied, then a 500" is what a create or an update can suffer;
#: for a read it would only be one more plain 500.
WRITE_ONLY = frozenset({"lost-500"})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class FaultMix(FaultInjector):
    """Fail a fixed share of requests, with a kind drawn by weight, from a seeded RNG.

    :param weights: fault kind -> relative weight.
    :param rate: the share of in-scope requests that fail (each request class alike: the kinds
        that do not apply to a read are left out of its draw, not replaced by success).
    :param seed: seed of the RNG, so a failing soak can be replayed (request order permitting).
    :param scope: ``connectwise``, ``addigy`` or ``both``.
    :param write_only: kinds drawn only for POST/PUT/PATCH/DELETE.
    """

    def __init__(
        self,
        weights: Mapping[str, float] = SOAK_MIX,
        *,
        rate: float = 0.2,
        seed: int = 0,
        scope: str = "both",
        write_only: frozenset[str] = WRITE_ONLY,
    ):
        super().__init__()
        unknown = set(weights) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        if not 0 <= rate <= 1:
            raise ValueError("rate must be a probability")
        self.weights = dict(weights)
        self.rate = rate
        self.scope = scope
        self.write_only = write_only
        self.mix_rng = random.Random(seed)
        self.enabled = True
        self.injected: Counter[str] = Counter()
        self.by_service: Counter[str] = Counter()
        self.seen = 0
        self._mix_lock = threading.Lock()

    def install(self, sandbox) -> FaultMix:
        """Replace the sandbox's fault injector with this one (it is read on every request)."""
        sandbox.runtime.faults = self
        return self

    def decide(self, service: str, method: str, path: str) -> str | None:
        queued = super().decide(service, method, path)  # queued one-shot faults still come first
        if queued is not None:
            return queued
        if not self.enabled or self.scope not in ("both", service):
            return None
        with self._mix_lock:
            self.seen += 1
            if self.mix_rng.random() >= self.rate:
                return None
            kinds = [k for k in self.weights if method in WRITES or k not in self.write_only]
            kind = self.mix_rng.choices(kinds, weights=[self.weights[k] for k in kinds])[0]
            self.injected[kind] += 1
            self.by_service[service] += 1
            return kind


class RetryRecorder:
    """Observe the hooks' request-level retries without waiting for them.

    Every ``RestClient`` made while installed gets a ``sleep`` that records the wait instead of
    sleeping (the rate budget keeps its real clock: it sleeps through ``time.sleep`` itself), and
    the request path's log records (``attempt N failed (...); retrying in Xs`` and ``the earlier
    attempt was applied; using it``) are kept.
    """

    LOGGER = "airflow_provider_connectwise.hooks._http"

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.messages: list[str] = []

    def install(self, monkeypatch) -> RetryRecorder:
        """Give every ``RestClient`` made from now on (until monkeypatch undoes it) a recording sleep."""
        from airflow_provider_connectwise.hooks._http import RestClient

        original = RestClient.__init__
        waits = self.waits

        def init(client, *args, **kwargs):
            original(client, *args, **kwargs)
            client.sleep = waits.append

        monkeypatch.setattr(RestClient, "__init__", init)
        return self

    @contextlib.contextmanager
    def listening(self) -> Iterator[RetryRecorder]:
        """Keep the request path's log messages (INFO and up) while the block runs."""
        messages = self.messages

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                messages.append(record.getMessage())

        logger = logging.getLogger(self.LOGGER)
        handler, level, disabled = Keep(logging.INFO), logger.level, logger.disabled
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.disabled = False
        try:
            yield self
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.disabled = disabled

    def retries_after(self, marker: str) -> list[str]:
        """The retry messages whose failed attempt mentions ``marker`` (e.g. ``-> 429``)."""
        return [m for m in self.messages if "retrying in" in m and marker in m]

    @property
    def reused_lost_writes(self) -> int:
        """How many times a write whose answer was lost was found applied instead of re-sent."""
        return sum("the earlier attempt was applied" in m for m in self.messages)


def peak(timestamps: list[float], window: float) -> int:
    """The largest number of ``timestamps`` inside any interval of ``window`` seconds."""
    ordered = sorted(timestamps)
    best, start = 0, 0
    for end, stamp in enumerate(ordered):
        while stamp - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
