"""Extra links: buttons in the Airflow UI that open the ConnectWise record a task touched."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink
from airflow.sdk.execution_time.xcom import XCom

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

TICKET_URL_KEY = "connectwise_ticket_url"


class ConnectWiseTicketLink(BaseOperatorLink):
    """Opens the ticket a task created, reopened, found or closed (``ServiceFV`` deep link)."""

    name = "ConnectWise ticket"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return XCom.get_value(ti_key=ti_key, key=TICKET_URL_KEY) or ""
