"""State of one sandbox: ConnectWise and Addigy backends plus what the seed created (plain Python)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..config import Credentials
from .addigy import AddigyBackend, FactError
from .connectwise import ConnectWiseBackend, utc_now

__all__ = ["AddigyBackend", "ConnectWiseBackend", "FactError", "SandboxState", "SeedInfo"]


@dataclass
class SeedInfo:
    """Ids of what a seed created, by name, so tests never hard-code numbers.

    ``board_statuses`` is ``{board name: {status name: id}}``; ``configurations``, ``tickets``,
    ``devices`` and ``alerts`` map descriptive labels (see ``seeds.py``) to ids.
    """

    name: str = "empty"
    companies: dict[str, int] = field(default_factory=dict)
    boards: dict[str, int] = field(default_factory=dict)
    board_statuses: dict[str, dict[str, int]] = field(default_factory=dict)
    configuration_statuses: dict[str, int] = field(default_factory=dict)
    configuration_types: dict[str, int] = field(default_factory=dict)
    configuration_type_questions: dict[str, int] = field(default_factory=dict)
    priorities: dict[str, int] = field(default_factory=dict)
    #: ``{board name: {"board_types" | "board_subtypes" | "board_items": {name: id}}}``
    classification: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    configurations: dict[str, int] = field(default_factory=dict)
    tickets: dict[str, int] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)
    devices: dict[str, str] = field(default_factory=dict)
    alerts: dict[str, str] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)


class SandboxState:
    """Everything a sandbox serves. ``connectwise`` and ``addigy`` hold the data and the admin
    operations; ``seed`` says what the seed created.

    :param credentials: accepted credentials (the Addigy organization id comes from here).
    :param nested_patch: see ``SandboxConfig.nested_patch``.
    :param clock: "now" for timestamps (UTC); inject a fake one in tests if needed.
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        nested_patch: str = "refuse",
        clock: Callable[[], datetime] = utc_now,
    ):
        self.credentials = credentials or Credentials()
        self.connectwise = ConnectWiseBackend(
            member_identifier=self.credentials.member_identifier, clock=clock, nested_patch=nested_patch
        )
        self.addigy = AddigyBackend(self.credentials.addigy_org_id, clock=clock)
        self.seed = SeedInfo()

    @classmethod
    def seeded(
        cls,
        seed: str = "demo",
        credentials: Credentials | None = None,
        *,
        nested_patch: str = "refuse",
        clock: Callable[[], datetime] = utc_now,
    ) -> SandboxState:
        """A new state filled by ``seeds.apply_seed`` (``"demo"``, ``"empty"``, ``"bench:N"``)."""
        from ..seeds import apply_seed

        state = cls(credentials, nested_patch=nested_patch, clock=clock)
        apply_seed(state, seed)
        return state
