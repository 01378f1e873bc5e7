"""The retry rule, written once for every client: the policy, the predicate, tenacity's stop and wait.

Retried (:func:`is_retryable`): 429 (waiting ``Retry-After`` when given, JSON body or not),
502/503/504, a 500 whose text says timeout, and transport failures. 400/401/403/404/409 are
never retried, nor a request whose answer was lost after it may have been applied.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import tenacity

from airflow_provider_connectwise.exceptions import (
    RateLimitedError,
    ResponseLostError,
    ServerError,
    TransportError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on one request.

    :param max_attempts: attempts in total, the first included.
    :param initial_wait: base of the exponential backoff, in seconds.
    :param max_wait: cap on one backoff wait (a longer ``Retry-After`` is still honoured,
        within ``max_total_wait``).
    :param max_total_wait: give up when the next wait would pass this many seconds in total.
    """

    max_attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 20.0
    max_total_wait: float = 120.0

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed ``attempt`` (1-based): ``Retry-After``, else full jitter."""
        if retry_after is not None and retry_after >= 0:
            return retry_after
        ceiling = min(self.max_wait, self.initial_wait * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed request may succeed if sent again (the retry rule, in one place)."""
    if isinstance(exc, TransportError):
        return exc.retryable and not isinstance(exc, ResponseLostError)
    if isinstance(exc, RateLimitedError):
        return True
    if isinstance(exc, ServerError):
        return exc.retryable
    return False


def wait_for(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    """tenacity's ``wait``: the policy's backoff, honouring the error's ``Retry-After``."""

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return policy.backoff(state.attempt_number, getattr(error, "retry_after", None))

    return wait


def stop_for(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], bool]:
    """tenacity's ``stop``: out of attempts, or the next wait would pass the total."""

    # tenacity computes the wait first: ``upcoming_sleep`` is the next wait, ``idle_for`` the
    # time already spent waiting for this request.
    def stop(state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= policy.max_attempts:
            return True
        return state.idle_for + state.upcoming_sleep > policy.max_total_wait

    return stop
