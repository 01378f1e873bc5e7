"""Configurations: the binding's reads by company, look-ups by agent id, creates and patches.

A device's agent id (``deviceIdentifier``) comes from outside: it is quoted into ``conditions``
through :class:`~airflow_provider_connectwise.core.conditions.SafeQuery` when it can be, and
every configuration returned for it is checked here to carry it (agent ids compare without case).
Bulk creates are :mod:`._bulk`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any

from airflow_provider_connectwise.core.conditions import (
    Condition,
    Field,
    SafeQuery,
    UnsafeConditionValue,
    joined,
)
from airflow_provider_connectwise.hooks._base import ConnectWiseBaseHook
from airflow_provider_connectwise.hooks._bulk import BulkCreator, CreatedConfiguration

# What the binding reads of each configuration (partial responses keep pages small).
CONFIGURATION_FIELDS = (
    "id",
    "name",
    "deviceIdentifier",
    "serialNumber",
    "macAddress",
    "ipAddress",
    "osType",
    "osInfo",
    "cpuSpeed",
    "ram",
    "lastLoginName",
    "managementLink",
    "status/id",
    "type/id",
    "company/id",
    "site/id",
)


class ConfigurationMethods(ConnectWiseBaseHook):
    """The configuration methods of :class:`~.connectwise.ConnectWiseHook`."""

    @cached_property
    def _bulk(self) -> BulkCreator:
        # the hook's bulk state: whether the server has the route, the chunk size that works
        return BulkCreator(self, self._bulk_chunk_size)

    def iter_configurations(
        self, condition: Condition, fields: Iterable[str] = CONFIGURATION_FIELDS
    ) -> Iterator[dict[str, Any]]:
        """Stream configurations matching a built condition, all pages, only ``fields``."""
        params = {"conditions": str(condition), "fields": ",".join(fields)}
        yield from self.client.paginate(self._api("company/configurations"), params, forward_only=True)

    def list_company_configurations(
        self, company_id: int, fields: Iterable[str] = CONFIGURATION_FIELDS
    ) -> list[dict[str, Any]]:
        """Every configuration of a company (all pages, only ``fields``): the binding's one read."""
        return list(self.iter_configurations(Field("company/id").eq(int(company_id)), fields))

    def list_configurations_of_companies(
        self, company_ids: Iterable[int], fields: Iterable[str] = CONFIGURATION_FIELDS
    ) -> dict[int, list[dict[str, Any]]]:
        """Every configuration of several companies, read together (``company/id in (...)``, all
        pages), grouped by company: reads grow with the number of configurations, not of companies."""
        ids = sorted({int(c) for c in company_ids})
        grouped: dict[int, list[dict[str, Any]]] = {c: [] for c in ids}
        for condition in SafeQuery.one_of("company/id", ids).clauses:
            for configuration in self.iter_configurations(condition, fields):
                company = (configuration.get("company") or {}).get("id")
                if company in grouped:
                    grouped[company].append(configuration)
        return grouped

    def find_configurations(self, company_id: int | None, device_identifier: str) -> list[dict[str, Any]]:
        """Configurations whose ``deviceIdentifier`` equals ``device_identifier``.

        :param company_id: only this company's, or ``None`` for every company.
        :param device_identifier: the device's agent id. It comes from outside: when it cannot be
            quoted safely the (company's) configurations are read and matched here instead.
        :raises UnsafeConditionValue: for an agent id that cannot be quoted, without a company.
        """
        scope = Field("company/id").eq(int(company_id)) if company_id is not None else None
        by_device = SafeQuery.equal("deviceIdentifier", device_identifier, fold=True)
        condition = joined(scope, by_device.clause)
        if condition is None:
            raise UnsafeConditionValue(by_device.refusal)
        return [c for c in self.iter_configurations(condition) if by_device.keep(c)]

    def find_configuration(self, company_id: int, agentid: str) -> dict[str, Any] | None:
        """The configuration of a company for a device (lowest id when several), or None."""
        matches = self.find_configurations(company_id, agentid)
        return min(matches, key=lambda c: c["id"]) if matches else None

    def get_configuration(self, configuration_id: int) -> dict[str, Any]:
        """One configuration by id."""
        return self._get(f"company/configurations/{int(configuration_id)}")

    def create_configuration(
        self, body: Mapping[str, Any], *, find_existing: Callable[[], dict | None] | None = None
    ) -> dict[str, Any]:
        """Create a configuration (``name``, ``type``, ``company`` are required).

        :param body: the configuration; references as ``{"id": n}``.
        :param find_existing: looks the configuration up if an earlier attempt's answer was lost;
            without it such a POST is not re-sent (:class:`ConnectWiseResponseLostError`).
        """
        return self._post("company/configurations", dict(body), find_existing)

    def create_configurations(
        self, bodies: Sequence[Mapping[str, Any]], *, concurrency: int = 1
    ) -> list[CreatedConfiguration]:
        """Create many configurations through ``POST /company/configurations/bulk``; one result per body.

        Each result holds the configuration read back from ConnectWise (the device is linked) or
        ConnectWise's own error for that item; a chunk whose answer was lost is looked up, never
        re-sent blindly. A server without the bulk route gets one POST per body (see ``_bulk``).

        :param bodies: configurations, each with ``deviceIdentifier`` (how it is read back).
        :param concurrency: simultaneous single POSTs when the server has no bulk route.
        """
        return self._bulk.create(bodies, concurrency=concurrency)

    def patch_configuration(self, configuration_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the given top-level fields of a configuration (one JSON Patch)."""
        return self._patch(f"company/configurations/{int(configuration_id)}", changes)
