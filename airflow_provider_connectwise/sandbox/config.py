"""Sandbox configuration: credentials, behaviour switches and fault knobs (plain data, no HTTP)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

DEMO_COMPANY = "demo"
DEMO_PUBLIC_KEY = "demo-public-key"
DEMO_PRIVATE_KEY = "demo-private-key"
DEMO_CLIENT_ID = "3f0b5c2e-1d4a-4c8e-9b7a-2e6f1a9c0d11"
DEMO_ADDIGY_API_KEY = "demo-addigy-api-key"
DEMO_ADDIGY_ORG_ID = "org-demo"

#: Codebase the sandbox advertises in ``/login/companyinfo`` (ends with ``/`` like the real one).
CODEBASE = "v2025_1/"
API_VERSION = "2025.1"

SCOPES = ("connectwise", "addigy", "both")


@dataclass(frozen=True)
class Credentials:
    """What a client must present. Override any of them when building a ``Sandbox``.

    :param company: ConnectWise company id (the ``{company}`` in ``{company}+{public}:{private}``).
    :param public_key: ConnectWise API member public key.
    :param private_key: ConnectWise API member private key.
    :param client_id: the ``clientId`` GUID. ``None`` accepts any non-empty ``clientId`` header.
    :param member_identifier: the API member written to ``_info.updatedBy`` / ``enteredBy``.
    :param addigy_api_key: Addigy ``x-api-key``.
    :param addigy_org_id: Addigy organization id of that key.
    :param addigy_key_name: the key's name reported by ``/configuration/whoami``.
    """

    company: str = DEMO_COMPANY
    public_key: str = DEMO_PUBLIC_KEY
    private_key: str = DEMO_PRIVATE_KEY
    client_id: str | None = DEMO_CLIENT_ID
    member_identifier: str = "AirflowAPI"
    addigy_api_key: str = DEMO_ADDIGY_API_KEY
    addigy_org_id: str = DEMO_ADDIGY_ORG_ID
    addigy_key_name: str = "Airflow sandbox key"


@dataclass
class FaultConfig:
    """Probabilistic faults and load knobs. All probabilities are in ``[0, 1]``.

    :param latency_ms: delay added to every in-scope request (``asyncio.sleep``, never blocks the loop).
    :param rate_limit: max requests per sliding 60-s window per service; ``None`` disables.
    :param rate_limit_style: ``"json"`` (ConnectWise's body) or ``"html"`` (a Cloudflare-like page).
    :param fail_500: probability of a 500 answer (nothing is written).
    :param fail_500_text: ``"error"`` or ``"timeout"`` (a database-timeout message, as ConnectWise sends).
    :param fail_503: probability of a 503 answer.
    :param reset: probability of closing the connection without any answer (nothing is written).
    :param lost_after_commit: probability that the request IS applied, then the answer is lost.
    :param lost_after_commit_mode: ``"reset"`` (connection closed) or ``"500"`` / ``"504"``.
    :param scope: ``"connectwise"``, ``"addigy"`` or ``"both"``.
    :param methods: only requests with these methods are affected (e.g. ``["POST", "PATCH"]``).
    :param path_contains: only requests whose path contains this text are affected.
    :param seed: seed of the fault RNG (deterministic sequences).
    """

    latency_ms: float = 0.0
    rate_limit: int | None = None
    rate_limit_style: str = "json"
    fail_500: float = 0.0
    fail_500_text: str = "error"
    fail_503: float = 0.0
    reset: float = 0.0
    lost_after_commit: float = 0.0
    lost_after_commit_mode: str = "reset"
    scope: str = "both"
    methods: list[str] | None = None
    path_contains: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` when a knob is out of range."""
        for name in ("fail_500", "fail_503", "reset", "lost_after_commit"):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be >= 1 request per minute (or None)")
        if self.rate_limit_style not in ("json", "html"):
            raise ValueError("rate_limit_style must be 'json' or 'html'")
        if self.fail_500_text not in ("error", "timeout"):
            raise ValueError("fail_500_text must be 'error' or 'timeout'")
        if self.lost_after_commit_mode not in ("reset", "500", "504"):
            raise ValueError("lost_after_commit_mode must be 'reset', '500' or '504'")
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}")
        if self.methods is not None:
            self.methods = [m.upper() for m in self.methods]

    def updated(self, **changes: Any) -> FaultConfig:
        """Return a copy with ``changes`` applied (unknown names raise ``TypeError``)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SandboxConfig:
    """Behaviour of one sandbox instance.

    :param strict: validate every ConnectWise API request against the official OpenAPI subset.
    :param credentials: accepted credentials.
    :param faults: fault and load knobs.
    :param nested_patch: what a PATCH with a nested path (``company/identifier``) does:
        ``"refuse"`` (400, the default) or ``"ignore"`` (a false 200 like the real server can give).
    :param request_log_size: how many requests the log keeps (oldest dropped first).
    :param bulk_max_items: most items one ``/company/configurations/bulk`` request may carry; more
        answer 413 (see ``models/bulk.py``).
    """

    strict: bool = True
    credentials: Credentials = field(default_factory=Credentials)
    faults: FaultConfig = field(default_factory=FaultConfig)
    nested_patch: str = "refuse"
    request_log_size: int = 20_000
    bulk_max_items: int = 1000
