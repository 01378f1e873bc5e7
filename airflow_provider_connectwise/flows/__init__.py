"""The flows: hooks and the pure core put together, without Airflow's task machinery.

``settings`` ("Next" and "the switch"; ``settings_loading`` reads the document), ``policy_links``,
``binding_plan`` and ``binding`` (Devices Binding: links, plan, writes, link status, the record),
``link_store`` (links saved in Airflow), ``tickets``, ``alert_tickets`` and ``notes`` (tickets
from alerts and requests, closed when resolved). Operators and sensors are thin wrappers over
these functions; tests drive them against the embedded sandbox with real hooks.
"""
