"""The integration's flows: hooks and the pure core put together, without Airflow.

Operators and sensors are thin wrappers over these functions; tests drive them against the
embedded sandbox with real hooks.
"""
