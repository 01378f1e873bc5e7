"""What users paste as "the URL for your ConnectWise account" (seed step 4), made usable.

ConnectWise cloud sites are browsed at ``na.myconnectwise.net`` but answer the API at
``api-na.myconnectwise.net`` (the browser host answers ``SSL is required``). On-premise servers
use one host for both. Plain http is refused except on loopback, where the embedded sandbox
lives.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

CLOUD_DOMAINS = ("myconnectwise.net", "connectwisedev.com")
API_PREFIX = "api-"
FALLBACK_CODEBASE = "v4_6_release/"
_CODEBASE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}/$")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?)*$")


class SiteError(ValueError):
    """The Site URL cannot be used; the message says why and what to enter instead."""


@dataclass(frozen=True)
class Site:
    """Where the API and the web UI of one ConnectWise server live.

    :param scheme: ``https`` (``http`` only for loopback hosts).
    :param api_host: host[:port] the REST API answers on.
    :param browser_host: host[:port] people open in a browser (UI links).
    """

    scheme: str
    api_host: str
    browser_host: str

    @property
    def api_root(self) -> str:
        return f"{self.scheme}://{self.api_host}/"

    @property
    def browser_root(self) -> str:
        return f"{self.scheme}://{self.browser_host}/"

    @property
    def is_cloud(self) -> bool:
        return _is_cloud(self.api_host.split(":")[0])


def parse_site_url(raw: str) -> Site:
    """Turn a pasted Site URL into API and browser hosts.

    Accepts ``na.myconnectwise.net``, ``https://na.myconnectwise.net/``,
    ``api-na.myconnectwise.net``, a URL copied from the browser with a path, and on-premise hosts.

    :param raw: what the user typed in the connection's Site URL field.
    :raises SiteError: empty, not a host, or plain http to a non-loopback host.
    """
    text = (raw or "").strip()
    if not text:
        raise SiteError("Site URL is empty: enter your ConnectWise site, e.g. na.myconnectwise.net")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise SiteError(f"Site URL {raw!r} is not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("https", "http") or not host:
        raise SiteError(f"Site URL {raw!r} must be a host name such as na.myconnectwise.net")
    if parts.username or parts.password:
        raise SiteError("Site URL must not contain credentials; use the connection's key fields")
    loopback = _is_loopback(host)
    if not loopback and not _HOST.match(host):
        raise SiteError(f"Site URL {raw!r} does not contain a valid host name")
    if scheme == "http" and not loopback:
        raise SiteError(
            f"Site URL {raw!r} uses plain http: ConnectWise requires HTTPS "
            "(http is accepted only for loopback hosts such as the embedded sandbox)"
        )
    netloc_suffix = f":{port}" if port else ""
    if _is_cloud(host):
        bare = host[len(API_PREFIX) :] if host.startswith(API_PREFIX) else host
        api = API_PREFIX + bare
        return Site(scheme, api + netloc_suffix, bare + netloc_suffix)
    shown = f"[{host}]" if ":" in host else host
    return Site(scheme, shown + netloc_suffix, shown + netloc_suffix)


def site_from_connection(host: str | None, port: int | None) -> Site:
    """Build the Site from a connection's host and port (the host may carry a scheme).

    A bare loopback host (the embedded sandbox) means plain http; everything else https.

    :param host: the connection's host field.
    :param port: the connection's port field, if any.
    """
    raw = (host or "").strip()
    if not raw:
        raise SiteError("the connection has no host: enter the site, e.g. na.myconnectwise.net")
    if "://" not in raw:
        bare = raw.split("/")[0].split(":")[0].strip("[]")
        if bare in ("localhost", "127.0.0.1", "::1"):  # the embedded sandbox speaks plain http
            raw = "http://" + raw
    if port and not re.search(r":\d+(/|$)", raw.split("://", 1)[-1]):
        scheme, _, rest = raw.partition("://") if "://" in raw else ("https", "", raw)
        head, slash, tail = rest.partition("/")
        raw = f"{scheme}://{head}:{port}{slash}{tail}"
    return parse_site_url(raw)


def normalise_codebase(raw: str) -> str:
    """Return a codebase as ConnectWise writes it (``v2025_1/``), trailing slash included.

    :param raw: a codebase from the connection or from ``/login/companyinfo``.
    :raises SiteError: when it is not a single path segment.
    """
    text = (raw or "").strip().strip("/") + "/"
    if not _CODEBASE.match(text):
        raise SiteError(f"codebase {raw!r} is not a ConnectWise codebase such as v2025_1/")
    return text


def _is_cloud(host: str) -> bool:
    return any(host == d or host.endswith("." + d) for d in CLOUD_DOMAINS) and not any(
        host == d for d in CLOUD_DOMAINS
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
