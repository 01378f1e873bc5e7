"""Notifiers: Airflow callbacks that open and close ConnectWise tickets."""
