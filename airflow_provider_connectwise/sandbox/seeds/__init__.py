"""Seeds: ``demo`` (a small MSP with messy devices), ``empty`` (catalogue only) and ``bench:N``.

What they create is data (``data.py``); ``catalogue.py`` (every seed), ``demo.py`` and ``bench.py``
read it in order and store it.

Everything is deterministic (a seeded RNG, a fixed epoch for seed timestamps). What a seed creates
is recorded in ``state.seed`` (a ``SeedInfo``) so tests look ids up by name.

``demo`` at a glance
--------------------
ConnectWise: companies ``DemoMSP`` (own), ``AcmeCorp``, ``Globex``, ``Initech``, ``OldCo`` (deleted) and
the vendor ``Apple``; boards ``Monitoring`` and ``Help Desk`` (self service) with open ``New`` statuses,
closed ``Resolved``/``Closed``/``Cancelled`` statuses and an inactive status each, plus the inactive board
``Projects Archive``; configuration statuses ``Active`` (default), ``Inactive`` (closed) and
``In Repair``; configuration types ``Managed Mac``, ``Laptop``, ``Desktop``, ``Network Switch``,
``Legacy Workstation`` (inactive) and ``Server`` (a REQUIRED active question); priorities 1-4; per board
ticket types, subtypes and items (``CLASSIFICATION``, the last of each inactive); contacts of AcmeCorp
(``ann``, ``ben`` with two e-mail addresses, ``desk``) and Globex (``carl``, ``nomail``).

Existing configurations (labels in ``seed.configurations``): ``acme-historical-1``/``-2`` (AcmeCorp,
Managed Mac, no deviceIdentifier, serial number of a policy-1 device: adoption candidates),
``acme-ours-inactive`` (an earlier binding of a policy-1 device, already deactivated), and configurations
the integration must never touch: ``acme-core-switch``, ``acme-rmm-laptop``, ``acme-server``,
``acme-printer``, ``globex-firewall``.

Addigy: policies ``Acme Workstations`` (linked to AcmeCorp), ``Globex Fleet`` (linked to Globex) and
``Lab Macs`` (not linked), 51 devices (20/19/12). Notable devices (``seed.devices``): ``overlong-name``,
``quoted-name`` (double quotes and a backslash), ``unicode-name-1..3``, ``missing-facts``, ``null-facts``,
``error-facts``, ``mac-dashes``, ``mac-dots``, ``mac-bare``, ``ram-gb-text``, ``ram-bytes``, ``ram-mb``,
``cpu-ghz-text``, ``cpu-mhz``, ``historical-1``/``-2`` (serials of the historical configurations),
``ours-inactive``, ``dup-serial-1``/``-2`` (same serial number), ``bad-mac`` (Globex; an Ethernet
MAC address that is not one: linked with a warning, its MAC address not written) and ``no-agent-id``
(Globex; listed without an agent id and with ``"facts": null``, an enrolment that never completed:
it cannot have a configuration, so Globex Fleet is partially linked). Facts use Addigy's identifiers
and JSON types (``processor_speed_ghz``/``total_memory_gb`` numbers, ``ethernet_ma_cs`` and
``policy_ids`` lists, ``online`` a boolean); the ``ram-*``/``cpu-*`` devices hold numbers in units
or precisions agents actually report. Alerts (``seed.alerts``):
``disk-full`` and ``cpu-high`` (Unattended, send_ticket), ``battery`` (Acknowledged), ``resolved-old``
(Resolved), ``no-ticket`` (Unattended, send_ticket false).
"""

from __future__ import annotations

from ..models import SandboxState, SeedInfo
from .bench import generate
from .catalogue import EPOCH, add_company, seed_catalogue, seed_classification, seed_contacts
from .demo import MANAGEMENT_LINK, clean_facts, seed_demo

__all__ = [
    "EPOCH",
    "MANAGEMENT_LINK",
    "add_company",
    "apply_seed",
    "clean_facts",
    "generate",
    "seed_catalogue",
    "seed_classification",
    "seed_contacts",
    "seed_demo",
]


def apply_seed(state: SandboxState, seed: str) -> SeedInfo:
    """Fill ``state`` from a seed name: ``demo``, ``empty`` or ``bench:N`` / ``bench:N:C``
    (N devices over C companies, default 10)."""
    name = seed.strip().lower()
    if name == "demo":
        info = seed_demo(state)
    elif name == "empty":
        info = seed_catalogue(state, SeedInfo(name="empty"))
    elif name.startswith("bench"):
        n, c = _bench_args(seed, name)
        info = generate(state, n_devices=n, n_companies=c)
    else:
        raise ValueError(f"unknown seed {seed!r} (demo, empty, bench:N[:C])")
    state.seed = info
    return info


def _bench_args(seed: str, name: str) -> tuple[int, int]:
    parts = name.split(":")
    try:
        return (int(parts[1]) if len(parts) > 1 else 1000, int(parts[2]) if len(parts) > 2 else 10)
    except ValueError:
        raise ValueError(f"bad bench seed {seed!r}: use bench:N or bench:N:C") from None
