"""The page's configuration, in one place: Airflow's ``[connectwise]`` section.

- ``sync_dag_id`` (default ``connectwise_manual_sync``): the DAG that saving a link triggers
  with ``{"policy": id}``; it must accept a ``policy`` param like the example does.
- ``connectwise_conn_id`` (default ``connectwise_default``): the connection the page searches
  companies and sites with (read when a person searches, never shown).

Where the records come from needs no setting: any DAG whose task records XCom
``connectwise_binding`` (the binding operators do) is read, if the user may read it.
"""

from __future__ import annotations

from airflow.configuration import conf

from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.plugins.model import SYNC_DAG_ID

SECTION = "connectwise"


def sync_dag_id() -> str:
    """The DAG a saved link starts (``[connectwise] sync_dag_id``)."""
    return conf.get(SECTION, "sync_dag_id", fallback=SYNC_DAG_ID) or SYNC_DAG_ID


def connectwise_conn_id() -> str:
    """The ConnectWise connection the page reads companies with (``[connectwise] connectwise_conn_id``)."""
    return conf.get(SECTION, "connectwise_conn_id", fallback=ConnectWiseHook.default_conn_name) or (
        ConnectWiseHook.default_conn_name
    )
