"""The integration widget's steps 5-16: fetch what ConnectWise offers ("Next"), validate ("the switch")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_connectwise.budget import ConnectWisePoolMixin
from airflow_provider_connectwise.core.catalogue import (
    render_catalogue,
    render_settings_template,
    settings_template,
)
from airflow_provider_connectwise.core.settings import SettingsError
from airflow_provider_connectwise.core.site import SiteError
from airflow_provider_connectwise.exceptions import AuthError, ConnectWiseRoutingError
from airflow_provider_connectwise.flows.settings import fetch_catalogue, validate_settings
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.xcom import CODEBASE_KEY


class ConnectWiseFetchBoardsOperator(ConnectWisePoolMixin, BaseOperator):
    """Fetch service boards with their statuses, configuration statuses and types ("Next").

    Logs them as tables plus a ready-to-edit settings document, and returns
    ``{"catalogue": ..., "settings_template": ...}``.

    :param company_name: also list companies whose name contains this (templated).
    :param connectwise_conn_id: the ``connectwise`` connection.
    """

    template_fields: Sequence[str] = ("company_name",)
    ui_color = "#2f6fb3"

    def __init__(
        self,
        *,
        company_name: str | None = None,
        connectwise_conn_id: str = ConnectWiseHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.company_name = company_name
        self.connectwise_conn_id = connectwise_conn_id

    @cached_property
    def hook(self) -> ConnectWiseHook:
        return ConnectWiseHook(
            self.connectwise_conn_id, requests_per_minute=self.connectwise_requests_per_minute()
        )

    def execute(self, context: Any) -> dict[str, Any]:
        catalogue = fetch_catalogue(self.hook, company_name=self.company_name or None)
        self.log.info("What ConnectWise offers:\n%s", render_catalogue(catalogue))
        self.log.info("A settings document to start from:\n%s", render_settings_template(catalogue))
        return {"catalogue": catalogue.to_dict(), "settings_template": settings_template(catalogue)}


class ConnectWiseValidateSettingsOperator(ConnectWisePoolMixin, BaseOperator):
    """Check the integration settings against ConnectWise and resolve every name to its id.

    The seed's switch: "if all the information you provided is correct, the integration will be
    enabled". Every example DAG runs this first, so a broken setting fails the run before any
    write, listing every problem at once (no retries: the settings must be fixed). Returns the
    resolved settings (ids) for the tasks downstream, with the server's codebase under
    ``connectwise_codebase`` so they need not discover it again.

    Give ``settings``, or ``settings_variable`` and/or ``settings_file``: with both, the Variable
    is used when it exists and the file otherwise (decided when the task runs).

    :param settings: the settings document (templated): a dict or JSON/YAML text.
    :param settings_variable: an Airflow Variable holding the document as JSON.
    :param settings_file: a JSON or YAML file (templated).
    :param connectwise_conn_id: the ``connectwise`` connection.
    """

    template_fields: Sequence[str] = ("settings", "settings_file")
    ui_color = "#2f6fb3"

    def __init__(
        self,
        *,
        settings: Mapping[str, Any] | str | None = None,
        settings_variable: str | None = None,
        settings_file: str | None = None,
        connectwise_conn_id: str = ConnectWiseHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if bool(settings) == bool(settings_variable or settings_file):
            raise ValueError("give either settings, or settings_variable and/or settings_file")
        self.settings = settings
        self.settings_variable = settings_variable
        self.settings_file = settings_file
        self.connectwise_conn_id = connectwise_conn_id

    @cached_property
    def hook(self) -> ConnectWiseHook:
        return ConnectWiseHook(
            self.connectwise_conn_id, requests_per_minute=self.connectwise_requests_per_minute()
        )

    def _source(self) -> Any:
        if self.settings:
            return self.settings
        if self.settings_variable:
            from airflow.sdk import Variable

            document = Variable.get(self.settings_variable, default=None, deserialize_json=True)
            if document is not None:
                return document
            if not self.settings_file:
                raise AirflowFailException(f"the Airflow Variable {self.settings_variable!r} is not set")
        return self.settings_file

    def execute(self, context: Any) -> dict[str, Any]:
        try:
            resolved = validate_settings(self.hook, self._source())
        except SettingsError as exc:
            raise AirflowFailException(
                f"the ConnectWise integration settings are not valid:\n{exc}"
            ) from None
        except (AuthError, ConnectWiseRoutingError, SiteError) as exc:
            # wrong keys, company id or site: retrying cannot fix the connection
            raise AirflowFailException(f"the ConnectWise connection is not usable: {exc}") from None
        for warning in resolved.warnings:
            self.log.warning("settings: %s", warning)
        self.log.info(
            "settings valid: monitoring board %s, self-service board %s, default type %s",
            resolved.monitoring.board_name,
            resolved.self_service.board_name,
            resolved.default_type_name,
        )
        return {**resolved.to_dict(), CODEBASE_KEY: self.hook.codebase}
