"""Policy links: their per-policy switches, and proposing a company for a policy by its name.

Pure Python (no Airflow, no HTTP): the binding and ticket flows ask :func:`policy_allows`; the
ConnectWise page asks :func:`propose_links` for its "Auto-map by name" list.

Decisions:

- A link's ``mode`` is one of :data:`MODES`: ``all`` (the default), ``inventory`` (configurations
  only), ``tickets`` (tickets only) or ``paused`` (nothing is written or deactivated). Anything
  else is refused by :func:`parse_mode`, never guessed.
- Names match when they are equal after :func:`normalise_name`: case and accents folded,
  punctuation dropped, ``&`` read as "and", and legal-form suffixes (Inc, LLC, Ltd, GmbH …)
  removed from the end. A policy whose normalised name is one company's is *confident*; one that
  matches several companies, or only by sharing every word in another order, is *ambiguous* and
  lists its candidates. Nothing is linked here: a person confirms.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DEFAULT_MODE",
    "LINK_SOURCES",
    "MODES",
    "Candidate",
    "Proposal",
    "normalise_name",
    "parse_mode",
    "policy_allows",
    "propose_links",
]

Mode = Literal["all", "inventory", "tickets", "paused"]
#: What a link lets the integration do with the policy.
MODES: dict[str, str] = {
    "all": "devices and tickets",
    "inventory": "devices only (no tickets)",
    "tickets": "tickets only (configurations left alone)",
    "paused": "paused (nothing written or deactivated)",
}
DEFAULT_MODE = "all"
#: Where a policy's link came from, strongest first (``None``: not linked).
LINK_SOURCES = ("settings", "airflow", "mdm")

_ALLOWED = {
    "all": frozenset({"inventory", "tickets"}),
    "inventory": frozenset({"inventory"}),
    "tickets": frozenset({"tickets"}),
    "paused": frozenset(),
}


def parse_mode(value: Any) -> str:
    """Return the link mode ``value`` names (``None`` or ``""``: the default ``all``).

    :param value: untrusted; a mode name in any case, surrounded by spaces or not.
    :raises ValueError: naming the value and the choices.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_MODE
    if isinstance(value, str) and value.strip().lower() in MODES:
        return value.strip().lower()
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    raise ValueError(f"mode {shown} is not one of {', '.join(MODES)}")


def policy_allows(mode: Any, what: Literal["tickets", "inventory"]) -> bool:
    """Whether a policy linked with ``mode`` takes part in ``what``.

    An unknown mode allows nothing (a link that cannot be read is not acted upon).

    :param mode: the link's mode (``None``: the default ``all``).
    :param what: ``"tickets"`` (the ticket flow) or ``"inventory"`` (configurations).
    """
    if what not in ("tickets", "inventory"):
        raise ValueError(f"what must be 'tickets' or 'inventory', not {what!r}")
    try:
        return what in _ALLOWED[parse_mode(mode)]
    except ValueError:
        return False


# --- matching names ----------------------------------------------------------------------------

#: Legal-form words dropped from the end of a name ("Acme Corp." and "ACME, Inc" are one company).
LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "plc", "corp", "corporation",
        "co", "company", "gmbh", "ag", "kg", "ug", "sa", "sas", "sarl", "srl", "spa", "bv", "nv",
        "oy", "ab", "as", "aps", "pty", "pte", "pc", "pllc", "mbh",
    }
)  # fmt: skip
_WORD = re.compile(r"[^\W_]+")


def _words(name: Any) -> list[str]:
    text = unicodedata.normalize("NFKD", str(name if name is not None else ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().replace("&", " and ")
    # "G.m.b.H." and "L.L.C." are written with dots: join one-letter runs back into a word
    words: list[str] = []
    run = ""
    for word in _WORD.findall(text.replace("'", "")):
        if len(word) == 1:
            run += word
            continue
        if run:
            words.append(run)
            run = ""
        words.append(word)
    if run:
        words.append(run)
    return words


def normalise_name(name: Any) -> str:
    """The form two names are compared in: folded, no punctuation, legal suffixes dropped.

    A name made only of suffix words keeps them (``"Company"`` stays ``"company"``).

    :param name: a policy or company name (untrusted; any type is read as text).
    """
    words = _words(name)
    end = len(words)
    while end > 1 and words[end - 1] in LEGAL_SUFFIXES:
        end -= 1
    if words[:1] == ["the"] and end > 1:
        words = words[1:]
        end -= 1
    return " ".join(words[:end])


@dataclass(frozen=True)
class Candidate:
    """A company a policy's name matches."""

    company_id: int
    identifier: str
    name: str


@dataclass(frozen=True)
class Proposal:
    """A company proposed for an unlinked policy (``confident``), or the candidates to choose from."""

    policy_id: str
    policy_name: str
    candidates: tuple[Candidate, ...] = field(default=())
    confident: bool = False

    @property
    def company(self) -> Candidate | None:
        """The proposed company when the match is confident."""
        return self.candidates[0] if self.confident else None


def _candidate(company: Mapping[str, Any]) -> Candidate | None:
    company_id = company.get("id")
    if isinstance(company_id, bool) or not isinstance(company_id, int) or company_id <= 0:
        return None
    return Candidate(company_id, str(company.get("identifier") or ""), str(company.get("name") or ""))


def propose_links(
    policies: Iterable[Mapping[str, Any]], companies: Iterable[Mapping[str, Any]]
) -> list[Proposal]:
    """Propose a company for every policy whose name matches a company's; confident ones first.

    :param policies: unlinked policies, ``{"policy_id", "name"}``.
    :param companies: ConnectWise companies, ``{"id", "identifier", "name"}`` (untrusted).
    """
    exact: dict[str, dict[int, Candidate]] = defaultdict(dict)
    by_words: dict[frozenset[str], dict[int, Candidate]] = defaultdict(dict)
    for company in companies:
        candidate = _candidate(company)
        if candidate is None:
            continue
        for text in {candidate.name, candidate.identifier} - {""}:
            key = normalise_name(text)
            if key:
                exact[key][candidate.company_id] = candidate
                by_words[frozenset(key.split())][candidate.company_id] = candidate
    proposals = []
    for policy in policies:
        policy_id = str(policy.get("policy_id") or "")
        key = normalise_name(policy.get("name"))
        if not policy_id or not key:
            continue
        found = exact.get(key) or by_words.get(frozenset(key.split())) or {}
        if not found:
            continue
        candidates = tuple(sorted(found.values(), key=lambda c: (c.name.casefold(), c.company_id)))
        confident = len(candidates) == 1 and key in exact
        proposals.append(Proposal(policy_id, str(policy.get("name") or ""), candidates, confident))
    proposals.sort(key=lambda p: (not p.confident, p.policy_name.casefold(), p.policy_id))
    return proposals
