"""MDM device facts -> ConnectWise configuration fields (the seed's field table), normalised.

A device record is the JSON-safe dict of ``docs/design.md``::

    {"agentid": "5f1c…", "policy_id": "pol-1",          # or "policy_ids": ["pol-1", ...]
     "facts": {"device_name": "Ann's MacBook",         # a bare value, or Addigy's envelope:
               "serial_number": {"value": "C02…", "type": "string", "error_msg": null}}}

Every value in it comes from outside, of any JSON type. :func:`map_device` returns a
:class:`MappedDevice` or raises :class:`DeviceMappingError` naming the device (name and agent id)
and the field -- nothing else, whatever the facts hold.

Decisions:

- A device fails only when it cannot have a configuration: the record is not an object, its agent
  id is unusable, its policy ids are unreadable. ``deviceIdentifier`` is the agent id and
  ``managementLink`` the rendered template, always; they identify the device and mark the
  configuration as ours, so they are never cut or cleaned: an agent id that is empty, not text,
  holds control characters or is longer than 100 characters is an error rather than a silently
  different identity (surrounding spaces are trimmed).
- A fact that cannot be normalised (a MAC address that is not one, a boolean where text is
  expected, RAM of 40 digits, NaN) leaves that one field unwritten, with a warning naming the field
  and the value (``macAddress: 'zz:zz' is not a MAC address (fact ...); not written``); the device
  is still mapped. ``facts`` that are not an object read as no facts, with a warning.
- A missing fact, ``null``, or a value that is empty after cleaning leaves the field out: the
  configuration keeps what it has (nothing is ever cleared); a missing serial number says so in a
  warning. A fact carrying ``error_msg`` is also left out, with a warning naming the fact and the
  message.
- Text is NFC-normalised; tabs, newlines and other whitespace become one space, runs of
  whitespace collapse, the ends are trimmed; other control characters, lone surrogates and
  bidirectional overrides are removed (other format characters, such as the joiner inside emoji,
  are kept). Quotes, backslashes and ``*`` are data and are kept. Text beyond 4096 characters is
  cut before cleaning (every maximum is far below it).
- Lengths are ConnectWise's maximums counted in UTF-16 code units (ConnectWise is a .NET
  application), so an emoji counts two; cutting never splits a character and adds a warning.
- MAC: ``aa:bb:cc:dd:ee:ff``, ``aa-bb-…`` (one or two digits per group), ``aabb.ccdd.eeff`` and
  ``aabbccddeeff``, spaces ignored, several in a list or separated by ``,`` ``;`` or spaces -> the
  first valid one as ``AA:BB:CC:DD:EE:FF``, with a warning when several were reported.
  ``00:00:00:00:00:00`` is a placeholder, not an address.
- IP: IPv4 or IPv6 (with a zone, ``fe80::1%en0``), several in a list or separated by commas or
  spaces -> the first valid one in its compressed form (warned about as for MACs). ``0.0.0.0``/``::``
  mean "no address" and are skipped.
- cpuSpeed in GHz, at most two decimals: ``2.3``, ``"2.3 GHz"``, ``"2300 MHz"``, a bare number
  above 100 is MHz and one above 1,000,000 is Hz; a processor name such as ``"… @ 2.60GHz"`` is
  read too. A decimal comma is accepted. Above 1000 GHz, zero or negative is not a speed.
- ram in GB (binary units: 1 GB = 1024 MB), one decimal when needed: ``"16 GB"``, ``"16384 MB"``,
  ``"17179869184"`` (a bare number of 1,048,576 or more is bytes, below it GB), ``16``. Above a
  petabyte, zero or negative is not a memory size.
- A device without a usable name is named after its serial number, else its agent id, with a
  warning (ConnectWise requires ``name``).

The rooms: ``fields`` (the tables: field mapping, identity fields, maximum lengths), ``values``
(one normaliser per field), ``link`` (the management link), ``device`` (:func:`map_device`).
"""

from __future__ import annotations

from airflow_provider_connectwise.core import clean_text, utf16_length
from airflow_provider_connectwise.core.mapping.device import DeviceMappingError, MappedDevice, map_device
from airflow_provider_connectwise.core.mapping.fields import (
    DEFAULT_FIELD_MAPPING,
    DEFAULT_MANAGEMENT_LINK_TEMPLATE,
    IDENTITY_FIELDS,
    MAPPED_FIELDS,
    MAX_LENGTHS,
)
from airflow_provider_connectwise.core.mapping.link import (
    management_link_template_problem,
    render_management_link,
)

__all__ = [
    "DEFAULT_FIELD_MAPPING",
    "DEFAULT_MANAGEMENT_LINK_TEMPLATE",
    "IDENTITY_FIELDS",
    "MAPPED_FIELDS",
    "MAX_LENGTHS",
    "DeviceMappingError",
    "MappedDevice",
    "clean_text",
    "management_link_template_problem",
    "map_device",
    "render_management_link",
    "utf16_length",
]
