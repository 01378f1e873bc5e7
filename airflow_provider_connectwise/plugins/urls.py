"""URLs of the plugin's pages and of the Airflow UI's, from where the app is mounted."""

from __future__ import annotations

from urllib.parse import quote

from airflow_provider_connectwise.plugins import URL_PREFIX
from airflow_provider_connectwise.plugins.model import RunRef


class Links:
    """URLs of the plugin's pages and of Airflow's own, from where the app is mounted.

    :param root_path: the ASGI root path of the plugin's app (``[api] base_url`` path + prefix).
    """

    def __init__(self, root_path: str) -> None:
        self.base = root_path.rstrip("/")
        self.airflow = self.base.removesuffix(URL_PREFIX) + "/"

    def home(self) -> str:
        return f"{self.base}/"

    def policy(self, policy_id: str) -> str:
        return f"{self.base}/policies/{quote(policy_id, safe='')}"

    def run(self, run: RunRef) -> str:
        return f"{self.base}/runs/{quote(run.dag_id, safe='')}/{quote(run.run_id, safe='')}"

    def retry(self) -> str:
        return f"{self.base}/retry-pending"

    def link(self, policy_id: str) -> str:
        return f"{self.policy(policy_id)}/link"

    def unlink(self, policy_id: str) -> str:
        return f"{self.policy(policy_id)}/unlink"

    def automap(self) -> str:
        return f"{self.base}/auto-map"

    def companies_api(self) -> str:
        return f"{self.base}/api/companies"

    def static(self, name: str) -> str:
        return f"{self.base}/static/{name}"

    def airflow_run(self, run: RunRef) -> str:
        return f"{self.airflow}dags/{quote(run.dag_id, safe='')}/runs/{quote(run.run_id, safe='')}"

    def airflow_dag(self, dag_id: str) -> str:
        return f"{self.airflow}dags/{quote(dag_id, safe='')}"
