"""A seeded mix of every fault kind the sandbox knows, for soak tests.

The sandbox's own ``FaultConfig`` draws 500/503/reset/lost faults with one RNG; a soak also wants
429s (JSON and HTML, with ``Retry-After``) and every "lost after commit" variant at once. This
injector plugs into a running sandbox (``FaultMix(...).install(sb)``) in place of its
``FaultInjector``: queued one-shot faults still win, then one draw of a seeded RNG per in-scope
request picks a kind by weight. It counts what it injected, by kind and by service.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
from collections import Counter
from collections.abc import Iterator, Mapping

from airflow_provider_connectwise.sandbox.faults import FAULT_KINDS, FaultInjector

#: 20% of requests fail: 500 (plain and "timeout"), 503, 429 (JSON and HTML, with Retry-After),
#: connection resets, and writes applied whose answer is then lost (reset, 500 or 504).
SOAK_MIX: Mapping[str, float] = {
    "503": 0.03,
    "500-timeout": 0.02,
    "500": 0.015,
    "reset": 0.03,
    "lost": 0.03,
    "lost-504": 0.02,
    "lost-500": 0.01,
    "429": 0.03,
    "429-html": 0.015,
}


class FaultMix(FaultInjector):
    """Inject faults of several kinds with fixed probabilities drawn from a seeded RNG.

    :param weights: fault kind -> probability per request (their sum is the fault rate).
    :param seed: seed of the RNG, so a failing soak can be replayed (request order permitting).
    :param scope: ``connectwise``, ``addigy`` or ``both``.
    """

    def __init__(self, weights: Mapping[str, float] = SOAK_MIX, *, seed: int = 0, scope: str = "both"):
        super().__init__()
        unknown = set(weights) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        if not 0 <= sum(weights.values()) <= 1:
            raise ValueError("the fault probabilities must add up to at most 1")
        self.weights = dict(weights)
        self.scope = scope
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
        queued = super().decide(service, method, path)
        if queued is not None:
            return queued
        if not self.enabled or self.scope not in ("both", service):
            return None
        with self._mix_lock:
            self.seen += 1
            draw = self.mix_rng.random()
            for kind, probability in self.weights.items():
                if draw < probability:
                    self.injected[kind] += 1
                    self.by_service[service] += 1
                    return kind
                draw -= probability
        return None


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
