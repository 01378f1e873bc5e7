"""The notifier runs against the embedded sandbox like the integration tests."""

from airflow_provider_connectwise.sandbox.testing import sandbox, sandbox_server  # noqa: F401
from tests.flows.conftest import airflow_env  # noqa: F401
