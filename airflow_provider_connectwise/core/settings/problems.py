"""What is wrong with the settings, said so a person can fix it.

:class:`SettingsProblem` is one finding (the setting's path, a message naming the value given and
the choices); :class:`SettingsError` carries all of them, so "the switch" reports every problem
at once. :func:`validation_problems` turns pydantic's errors on the document into problems, and
the small text helpers here (:func:`shown`, :func:`choice_list`, :func:`choices_text`,
:func:`did_you_mean`) keep every message alike.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from airflow_provider_connectwise.core import printable

__all__ = [
    "DOCUMENT",
    "SettingsError",
    "SettingsProblem",
    "choice_list",
    "choices_text",
    "did_you_mean",
    "document_problem",
    "shown",
    "validation_problems",
]

#: the path of a problem with the document as a whole (unreadable, not a mapping...)
DOCUMENT = "<document>"

_MAX_CHOICES = 30


@dataclass(frozen=True)
class SettingsProblem:
    """One thing wrong with the settings: where, what, the value given and the valid choices."""

    #: the setting, e.g. ``monitoring.open_status`` or ``configuration_types.conditional[2].value``
    path: str
    #: a full sentence fragment that already names the value and lists the choices
    message: str
    value: Any = None
    choices: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (for the UI)."""
        value = (
            self.value if isinstance(self.value, (str, int, float, bool, type(None))) else repr(self.value)
        )
        return {"path": self.path, "message": self.message, "value": value, "choices": list(self.choices)}


class SettingsError(ValueError):
    """The settings cannot be used; carries every problem found, not just the first.

    :param problems: what is wrong, in document order.
    """

    def __init__(self, problems: Sequence[SettingsProblem]) -> None:
        if not problems:
            raise ValueError("SettingsError needs at least one problem")
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        head = "1 problem" if count == 1 else f"{count} problems"
        return f"The ConnectWise settings have {head}:\n" + "\n".join(f"  - {p}" for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (for the UI)."""
        return {"problems": [problem.to_dict() for problem in self.problems]}


def document_problem(message: str) -> SettingsError:
    """Return the error for a document that cannot be read at all (one problem, no setting).

    :param message: what is wrong with it.
    """
    return SettingsError([SettingsProblem(DOCUMENT, message)])


# --- message parts --------------------------------------------------------------------------------


def shown(value: int | str) -> str:
    """Return a reference as a message shows it: ``id 4`` or the quoted, log-safe name."""
    return f"id {value}" if isinstance(value, int) else printable(repr(value), 80)


def choice_list(names: Iterable[str]) -> tuple[str, ...]:
    """Return the choices to offer: log-safe, without blanks or repeats, sorted case-insensitively."""
    return tuple(sorted({printable(name, 60) for name in names if name}, key=str.casefold))


def choices_text(label: str, choices: tuple[str, ...]) -> str:
    """Return ``label: a, b and N more`` (at most 30 choices shown; ``label: none`` when empty)."""
    if not choices:
        return f"{label}: none"
    listed = ", ".join(choices[:_MAX_CHOICES])
    more = f" and {len(choices) - _MAX_CHOICES} more" if len(choices) > _MAX_CHOICES else ""
    return f"{label}: {listed}{more}"


def did_you_mean(key: str, allowed: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the allowed name closest to ``key``, or ``""``."""
    allowed = list(allowed)
    folded = {name.casefold(): name for name in allowed}
    match = folded.get(key.casefold()) or next(
        iter(difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)), None
    )
    return f" (did you mean {match!r}?)" if match else ""


# --- pydantic's errors as problems ----------------------------------------------------------------


def validation_problems(error: ValidationError, document: type[BaseModel]) -> list[SettingsProblem]:
    """Return pydantic's errors on the settings document as problems, in document order.

    An unknown key names the keys allowed where it stands (with a suggestion); a section may say
    more about a key it refuses with a ``refused_key_reason(key)`` class method.

    :param error: what ``document.model_validate`` raised.
    :param document: the model of the whole document (where error locations start).
    """
    problems = []
    for item in error.errors(include_url=False):
        loc = item["loc"]
        kind = item["type"]
        if kind == "extra_forbidden":
            message = _unknown_key(loc, _model_at(document, loc[:-1]))
            problems.append(SettingsProblem(_path(loc), message, value=item.get("input")))
        elif kind == "missing":
            problems.append(SettingsProblem(_path(loc), "required setting is missing"))
        else:
            message = item["msg"].removeprefix("Value error, ")
            value = item.get("input")
            # Our own validators already show the value; pydantic's messages do not.
            if kind != "value_error" and not isinstance(value, (Mapping, list)):
                message += f" (got {printable(repr(value), 80)})"
            problems.append(SettingsProblem(_path(loc), message, value=value))
    return problems


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(document: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """Return the document section a pydantic error location points into."""
    model: type[BaseModel] | None = document
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part) if model else None
        if info is None:
            return None
        model = _model_in(info.annotation)
    return model


def _path(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or DOCUMENT


def _unknown_key(loc: Sequence[Any], model: type[BaseModel] | None) -> str:
    key = str(loc[-1])
    reason = getattr(model, "refused_key_reason", None)
    special = reason(key) if reason else None
    if special:
        return special
    allowed = list(model.model_fields) if model else []
    return f"unknown setting {printable(repr(key), 60)}{did_you_mean(key, allowed)}; settings here: {', '.join(allowed)}"
