"""Apache Airflow provider for ConnectWise PSA (Manage): bind MDM devices and alerts to it."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
