"""The management link: the ownership marker a configuration carries, rendered from a template.

The rendered link is the ownership marker, so the template must be a stable https URL holding
the agent id; it is validated once, with the settings (:func:`management_link_template_problem`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from airflow_provider_connectwise.core import printable
from airflow_provider_connectwise.core.mapping.fields import MAX_LENGTHS
from airflow_provider_connectwise.core.mapping.values import kind

__all__ = ["management_link_template_problem", "render_management_link"]

# Longest template accepted: leaves room for a 100-character agent id, even percent-encoded.
_MAX_TEMPLATE_LENGTH = MAX_LENGTHS["managementLink"] - 3 * MAX_LENGTHS["deviceIdentifier"]


def management_link_template_problem(template: Any) -> str | None:
    """Return what is wrong with a management link template, ``None`` when it is usable.

    The rendered link is the ownership marker, so it must be a stable https URL holding the agent
    id; ``"``, ``\\`` and ``*`` are refused because they cannot be matched safely in ConnectWise
    ``conditions``.

    :param template: the template, e.g. ``https://app.addigy.com/devices/{agentid}``.
    """
    if not isinstance(template, str):
        return f"must be text, got {kind(template)}"
    if "{agentid}" not in template:
        return "must contain the placeholder {agentid}"
    rest = template.replace("{agentid}", "")
    stray = re.search(r"\{[^}]*\}?|\}", rest)
    if stray:
        return f"unknown placeholder {printable(stray.group(0), 40)}; the only placeholder is {{agentid}}"
    bad = sorted({char for char in rest if char in '"\\*' or char.isspace() or not char.isprintable()})
    if bad:
        return "must not contain " + ", ".join(printable(repr(char)) for char in bad)
    parts = urlsplit(template.replace("{agentid}", "x"))
    if parts.scheme != "https" or not parts.netloc:
        return "must be an https URL such as https://app.addigy.com/devices/{agentid}"
    if len(template) > _MAX_TEMPLATE_LENGTH:
        return f"must be at most {_MAX_TEMPLATE_LENGTH} characters"
    return None


def render_management_link(template: str, agentid: str) -> str:
    """Render the ownership marker for one agent id (percent-encoded, so it stays one URL segment).

    :param template: a template accepted by :func:`management_link_template_problem`.
    :param agentid: the device's agent id.
    """
    return template.replace("{agentid}", quote(agentid, safe=""))
