"""The catalogue as text tables for a task log (what "Next" found)."""

from __future__ import annotations

from airflow_provider_connectwise.core import text_table
from airflow_provider_connectwise.core.catalogue.catalogue import Catalogue

__all__ = ["render_catalogue"]


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def render_catalogue(catalogue: Catalogue) -> str:
    """Render the catalogue as text tables for a task log (names are log-escaped).

    :param catalogue: the catalogue to show.
    """
    width = {1: 50}
    parts = ["Service boards and their ticket statuses"]
    rows: list[list[object]] = []
    for board in catalogue.boards:
        rows.append([board.id, board.name, "board", "", _yes(board.inactive)])
        for status in board.statuses:
            kind = "closed" if status.closed else "open"
            rows.append([status.id, f"  {status.name}", kind, _yes(status.default), _yes(status.inactive)])
    parts.append(text_table(["id", "name", "kind", "default", "inactive"], rows, max_widths=width))
    parts.append("\nConfiguration statuses")
    parts.append(
        text_table(
            ["id", "description", "closed", "default"],
            [
                [s.id, s.description, _yes(s.closed), _yes(s.default)]
                for s in catalogue.configuration_statuses
            ],
            max_widths=width,
        )
    )
    parts.append("\nConfiguration types")
    parts.append(
        text_table(
            ["id", "name", "inactive", "required questions"],
            [
                [t.id, t.name, _yes(t.inactive), ", ".join(t.required_questions)]
                for t in catalogue.configuration_types
            ],
            max_widths={1: 50, 3: 80},
        )
    )
    parts.append("\nCompanies")
    parts.append(
        text_table(
            ["id", "identifier", "name", "deleted"],
            [[c.id, c.identifier, c.name, _yes(c.deleted)] for c in catalogue.companies],
            max_widths={1: 30, 2: 50},
        )
    )
    return "\n".join(parts)
