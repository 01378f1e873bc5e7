"""The pure domain core: no Airflow import, no HTTP library, reads and tests like a library.

Packages and modules (see ``docs/design.md``): ``catalogue`` (what "Next" fetches), ``settings``
and ``type_rules`` (the settings document and "the switch"), ``mapping`` (MDM facts to
configuration fields), ``planning`` (reconcile devices with a company's configurations),
``apply`` (run the writes), ``binding_report`` (Devices Binding results and link status),
``links`` (policy links and modes), ``tickets`` and ``site`` (ticket content, the site URL),
``conditions`` (ConnectWise query conditions, safely quoted) and ``text`` (log-safe text helpers,
re-exported here).
"""

from __future__ import annotations

from airflow_provider_connectwise.core.text import (
    BIDI_CONTROLS,
    clean_text,
    cut_utf16,
    preview,
    printable,
    text_table,
    utf16_length,
)

__all__ = [
    "BIDI_CONTROLS",
    "clean_text",
    "cut_utf16",
    "preview",
    "printable",
    "text_table",
    "utf16_length",
]
