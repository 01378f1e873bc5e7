"""Requests per ticket step against the embedded sandbox (demo seed): `PYTHONPATH=$PWD python tools/ticket_requests.py`."""

import os
from pathlib import Path

from airflow_provider_connectwise.sandbox.models import notes
from airflow_provider_connectwise.sandbox.server import Sandbox

with Sandbox(seed="demo") as sb:
    os.environ.update(sb.airflow_env(form="json"))
    import yaml

    from airflow_provider_connectwise.flows.settings import validate_settings
    from airflow_provider_connectwise.flows.tickets import close_tickets, open_ticket
    from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook

    doc = yaml.safe_load(Path("dags/connectwise_example_settings.yaml").read_text())
    cw = ConnectWiseHook(requests_per_minute=None)
    settings = validate_settings(cw, doc)

    def step(name, fn):
        sb.clear_stats()
        out = fn()
        c = sb.counters()
        print(f"{name:58s} {sum(c.values()):3d} requests  {dict(sorted(c.items()))}")
        return out

    o = step(
        "open (create, company given, with description)",
        lambda: open_ticket(
            cw,
            settings,
            board="monitoring",
            summary="Disk",
            description="d",
            external_ref="m-1",
            company="Globex",
        ),
    )
    step(
        "open again (existing)",
        lambda: open_ticket(
            cw, settings, board="monitoring", summary="Disk", external_ref="m-1", company="Globex"
        ),
    )
    step(
        "open again with 2 repeats (consolidated note)",
        lambda: open_ticket(
            cw,
            settings,
            board="monitoring",
            summary="Disk",
            external_ref="m-1",
            company="Globex",
            repeats=[{"id": "a"}, {"id": "b"}],
        ),
    )
    step(
        "close by resolution (untouched: note + close)",
        lambda: close_tickets(cw, settings, board="monitoring", external_ref="m-1", resolution="ok"),
    )
    step(
        "close again (already closed)",
        lambda: close_tickets(cw, settings, board="monitoring", external_ref="m-1", resolution="ok"),
    )
    step(
        "recurrence (reopen: note + status)",
        lambda: open_ticket(
            cw, settings, board="monitoring", summary="Disk", external_ref="m-1", company="Globex"
        ),
    )
    notes.log_time(sb.state.connectwise, o.ticket_id, "30 min")
    step(
        "close when a technician logged time (kept-open note)",
        lambda: close_tickets(cw, settings, board="monitoring", external_ref="m-1", resolution="ok"),
    )
    step(
        "close again when touched (note exists: nothing written)",
        lambda: close_tickets(cw, settings, board="monitoring", external_ref="m-1", resolution="ok"),
    )
    full = {
        **doc,
        "monitoring": {
            **doc["monitoring"],
            "type": "Alert",
            "item": "Disk",
            "priority_by_severity": {"critical": "Priority 1 - Emergency Response"},
        },
        "default_contacts": [{"company": "AcmeCorp", "contact": "it@acme.example"}],
    }
    step("the switch, example settings", lambda: validate_settings(cw, doc))
    step("the switch, + classification and a default contact", lambda: validate_settings(cw, full))
