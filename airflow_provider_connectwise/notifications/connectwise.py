"""ConnectWiseNotifier: a failed task or DAG run opens a ConnectWise ticket; success closes it.

Modelled on the official PagerDuty notifier: ``__init__`` only stores templated arguments,
``notify(context)`` calls the ticket flow, and a dedup key (the ticket's ``externalXRef``, built
from the DAG and task ids) makes a repeated failure add a note to the open ticket instead of
opening another::

    from airflow_provider_connectwise.notifications.connectwise import ConnectWiseNotifier

    notifier = ConnectWiseNotifier(board="monitoring", company="DemoMSP")
    BashOperator(task_id="backup", bash_command="...", on_failure_callback=notifier,
                 on_success_callback=notifier)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseNotifier

from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.core.tickets import EXTERNAL_REF_MAX, clean_text
from airflow_provider_connectwise.examples import SETTINGS_VARIABLE
from airflow_provider_connectwise.flows.notes import add_note
from airflow_provider_connectwise.flows.settings import validate_settings
from airflow_provider_connectwise.flows.tickets import (
    TicketOutcome,
    board_of,
    close_tickets,
    open_ticket,
)
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook

_FAILED = ("failed", "upstream_failed")


def dedup_key(dag_id: str, task_id: str | None = None) -> str:
    """The ``externalXRef`` of a DAG's (or one task's) failure ticket: at most 100 characters.

    A longer key keeps its start and ends with a digest of the whole, so two long ids that share
    a prefix still get different tickets.

    :param dag_id: the DAG.
    :param task_id: the task (None for a DAG-run callback).
    """
    key = f"airflow:{dag_id}" + (f":{task_id}" if task_id else "")
    if len(key) <= EXTERNAL_REF_MAX:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{key[: EXTERNAL_REF_MAX - len(digest) - 1]}~{digest}"


class ConnectWiseNotifier(BaseNotifier):
    """Open a ConnectWise ticket when a task or DAG run fails, and close it when it succeeds.

    Use the same instance as ``on_failure_callback`` and ``on_success_callback`` (of a task, or
    of the DAG for one ticket per DAG run). The ticket lands on the settings' board with its open
    status and classification, in ``company``; a second failure adds a note to the open ticket; a
    failure within 24 h of the ticket's closing reopens it. A ticket a technician works is not
    closed under them (the board's ``keep_touched_tickets_open``).

    :param board: ``monitoring`` or ``self_service``: which board of the settings.
    :param company: the ConnectWise company (identifier or id) of the tickets (templated).
    :param summary: the ticket summary (templated; default ``Airflow: <dag>.<task> failed``).
    :param settings: the settings document, or ``ConnectWiseValidateSettingsOperator``'s XCom
        (templated); default: the Airflow Variable ``settings_variable``.
    :param settings_variable: the Variable holding the settings document (JSON).
    :param connectwise_conn_id: the ``connectwise`` connection.
    """

    template_fields: Sequence[str] = ("company", "summary", "settings")

    def __init__(
        self,
        *,
        board: str = "monitoring",
        company: int | str,
        summary: str | None = None,
        settings: Mapping[str, Any] | str | None = None,
        settings_variable: str = SETTINGS_VARIABLE,
        connectwise_conn_id: str = ConnectWiseHook.default_conn_name,
    ) -> None:
        super().__init__()
        self.board = board
        self.company = company
        self.summary = summary
        self.settings = settings
        self.settings_variable = settings_variable
        self.connectwise_conn_id = connectwise_conn_id

    @cached_property
    def hook(self) -> ConnectWiseHook:
        """The ConnectWise hook."""
        return ConnectWiseHook(self.connectwise_conn_id)

    def resolved_settings(self) -> ResolvedSettings:
        """The settings resolved to ids (already resolved when given the validate task's XCom)."""
        document: Any = self.settings
        if document is None:
            from airflow.sdk import Variable

            document = Variable.get(self.settings_variable, deserialize_json=True)
        if isinstance(document, Mapping) and "board_id" in (document.get("monitoring") or {}):
            return ResolvedSettings.from_dict(document)
        return validate_settings(self.hook, document)

    def notify(self, context: Any) -> None:
        """Open (or note on) the ticket of a failure, close it on a success.

        :param context: the callback's Airflow context.
        """
        ti = context.get("ti") or context.get("task_instance")
        dag_run = context.get("dag_run")
        dag_id = str(getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None) or context["dag"].dag_id)
        task_id = getattr(ti, "task_id", None) if ti is not None else None
        ref = dedup_key(dag_id, task_id)
        settings = self.resolved_settings()
        if _failed(context, ti, dag_run):
            outcome = self._opened(context, settings, ref, dag_id, task_id, dag_run)
        else:
            run_id = getattr(dag_run, "run_id", "") or ""
            what = f"{dag_id}{'.' + task_id if task_id else ''} succeeded in run {run_id}."
            outcomes = close_tickets(self.hook, settings, board=self.board, external_ref=ref, resolution=what)
            outcome = outcomes[0]
        self.log.info("ConnectWise: %s (%s)", outcome.message, ref)

    def _opened(
        self,
        context: Any,
        settings: ResolvedSettings,
        ref: str,
        dag_id: str,
        task_id: str | None,
        dag_run: Any,
    ) -> TicketOutcome:
        name = f"{dag_id}.{task_id}" if task_id else dag_id
        run_id = clean_text(getattr(dag_run, "run_id", "") or "", single_line=True)
        try_number = getattr(context.get("ti"), "try_number", None)
        error = context.get("exception") or context.get("reason") or "-"
        details = "\n".join(
            [
                f"Airflow {'task' if task_id else 'DAG run'} {name} failed.",
                f"Run: {run_id or '-'}" + (f", try {try_number}" if try_number else ""),
                f"Error: {_redacted(error)}",
            ]
        )
        outcome = open_ticket(
            self.hook,
            settings,
            board=self.board,
            summary=self.summary or f"Airflow: {name} failed",
            description=details,
            external_ref=ref,
            company=self.company,
        )
        if outcome.action == "existing" and outcome.ticket_id is not None:
            # One note per failed try: a callback that runs twice for it writes it once.
            target = board_of(settings, self.board)
            event = f"failed:{run_id}:{try_number or ''}"
            add_note(
                self.hook, outcome.ticket_id, ref=ref, event=event, text=details, visibility=target.notes
            )
        return outcome


def _failed(context: Any, ti: Any, dag_run: Any) -> bool:
    """Whether the callback reports a failure (an exception, or a failed task or run)."""
    if context.get("exception") is not None:
        return True
    state = getattr(ti, "state", None) if ti is not None else getattr(dag_run, "state", None)
    return str(getattr(state, "value", state) or "").lower() in _FAILED


def _redacted(error: Any) -> str:
    """The error text with registered secrets masked, one paragraph, at most 1,000 characters."""
    from airflow.sdk.log import redact

    text = clean_text(redact(str(error)))
    return text if len(text) <= 1000 else text[:999] + "…"


#: Functional alias, like ``send_pagerduty_notification``.
send_connectwise_notification = ConnectWiseNotifier
