"""Configurations (``/company/configurations``): create, patch and what the server derives.

A configuration without a status gets the default configuration status; ``activeFlag`` follows
the status (a closed status makes it inactive); question answers are stored as text, and every
required active question of the configuration's type needs an answer. Bulk POST/PUT (``bulk.py``)
validates each item with :func:`validated_configuration`. Plain Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidObject, field_error
from . import resources as R
from .patch import patch
from .rendering import render
from .validation import check_active_refs, check_common, read_body, stamp

if TYPE_CHECKING:
    from .connectwise import ConnectWiseBackend

Record = dict[str, Any]
FieldErrors = list[dict[str, str]]


def validated_configuration(backend: ConnectWiseBackend, body: Any) -> Record:
    """Validate a whole configuration as POST takes it (bulk POST and PUT reuse it); return the
    record to store, without id or ``_info``; raise ``BadRequest``/``InvalidObject``."""
    with backend.lock:
        record, changed, errors = read_body(backend, R.CONFIGURATIONS, body)
        changed |= {k for k in ("type", "company", "status") if record.get(k)}
        check_common(R.CONFIGURATIONS, record, errors)
        check_active_refs(backend, R.CONFIGURATIONS, record, changed, errors)
        finish_configuration(backend, record, changed, errors, creating=True)
        if errors:
            raise InvalidObject(R.CONFIGURATIONS.label, errors)
        return record


def add_configuration(backend: ConnectWiseBackend, body: Any, *, actor: str | None = None) -> Record:
    """Validate ``body`` and store it as a new configuration; return the stored (raw) record."""
    with backend.lock:
        record = validated_configuration(backend, body)
        record["id"] = backend.configurations.new_id()
        stamp(backend, record, creating=True, actor=actor)
        return backend.configurations.add(record)


def create_configuration(
    backend: ConnectWiseBackend, body: Mapping[str, Any], *, actor: str | None = None
) -> Record:
    """POST /company/configurations: validate, store, return the rendered entity."""
    with backend.lock:
        return render(backend, R.CONFIGURATIONS, add_configuration(backend, body, actor=actor))


def update_configuration(
    backend: ConnectWiseBackend, rid: int, operations: Any, *, actor: str | None = None
) -> Record:
    """PATCH /company/configurations/{id} with a JSON Patch array."""
    return patch(backend, R.CONFIGURATIONS, rid, operations, actor, finish=_finish_patched)


def _finish_patched(
    backend: ConnectWiseBackend,
    record: Record,
    current: Record,
    changed: set[str],
    errors: FieldErrors,
    actor: str | None,
) -> None:
    finish_configuration(backend, record, changed, errors, creating=False)


def finish_configuration(
    backend: ConnectWiseBackend, record: Record, changed: set[str], errors: FieldErrors, *, creating: bool
) -> None:
    """Derive the status (on create), ``activeFlag`` and textual answers; check required answers."""
    if record.get("status") is None and creating:
        default = next((s for s in backend.configuration_statuses if s.get("defaultFlag")), None)
        if default is not None:
            record["status"] = {"id": default["id"]}
    status = backend.configuration_statuses.get((record.get("status") or {}).get("id"))
    record["activeFlag"] = not bool(status and status.get("closedFlag"))
    questions = record.get("questions")
    if isinstance(questions, list):
        for q in questions:
            if isinstance(q, dict) and q.get("answer") is not None and not isinstance(q["answer"], str):
                q["answer"] = str(q["answer"]).lower() if isinstance(q["answer"], bool) else str(q["answer"])
    type_ref = record.get("type") or {}
    if ("type" in changed or "questions" in changed) and type_ref.get("id") is not None:
        _check_required_answers(backend, type_ref["id"], questions, errors)


def _check_required_answers(
    backend: ConnectWiseBackend, type_id: int, questions: Any, errors: FieldErrors
) -> None:
    answered = {
        q.get("questionId")
        for q in (questions or [])
        if isinstance(q, dict) and q.get("answer") not in (None, "")
    }
    for question in backend.configuration_type_questions.matching(
        None, parent=("configurationType/id", type_id)
    ):
        if (
            question.get("requiredFlag")
            and not question.get("inactiveFlag")
            and question["id"] not in answered
        ):
            errors.append(
                field_error(
                    "MissingRequiredField",
                    f"Question '{question.get('question')}' ({question['id']}) of configuration type "
                    f"{type_id} requires an answer.",
                    R.CONFIGURATIONS.label,
                    "questions",
                )
            )
