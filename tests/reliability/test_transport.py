"""Transport: certificates are verified by default, plain http is refused except on loopback, and a
redirect is never followed (it would carry the credentials elsewhere).

The TLS tests run a real HTTPS server on 127.0.0.1 with a throwaway self-signed certificate made
here with ``cryptography``. The hooks (sync ``requests`` and the triggers' async ``httpx``) must fail
with a transport error naming SSL before a single request reaches the server; the same hooks,
told to trust that certificate through ``REQUESTS_CA_BUNDLE``, get their answers - so the failure
is certificate verification and nothing else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import requests_mock

from airflow_provider_connectwise.core.site import SiteError
from airflow_provider_connectwise.exceptions import (
    AddigyTransportError,
    ApiError,
    ConnectWiseTransportError,
)
from airflow_provider_connectwise.hooks._http import RetryPolicy, is_retryable
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from tests.helpers.faults import RetryRecorder

CONNECTWISE = {
    "conn_type": "connectwise",
    "login": "acme",
    "password": "private-key-for-transport",
    "extra": {"public_key": "public-key-for-transport", "client_id": "3f0b5c2e-1d4a-4c8e-9b7a-2e6f1a9c0d11"},
}


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost), signed by its own throwaway key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class Answers(BaseHTTPRequestHandler):
    """Just enough of ConnectWise and Addigy to answer a connection test."""

    handled: list[str]

    def do_GET(self) -> None:
        self.handled.append(self.path)
        if self.path.startswith("/login/companyinfo/"):
            body = {"CompanyName": "Acme", "Codebase": "v2025_1/", "IsCloud": False}
        elif "/apis/3.0/service/tickets/" in self.path:
            body = {"id": 1, "summary": "x", "closedFlag": False}
        elif self.path.endswith("/configuration/whoami"):
            body = {"name": "key", "organization_id": "org-1"}
        else:
            body = {"version": "v2025.1"}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture
def https_server(tmp_path) -> Iterator[tuple[str, Path, list[str]]]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate: (base URL, cert, paths served)."""
    cert, key = self_signed(tmp_path)
    handled: list[str] = []
    handler = type("Handler", (Answers,), {"handled": handled})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert, handled
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def connections(monkeypatch):
    """Set the ConnectWise and Addigy connections to a host; no CA bundle from the environment."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    RetryRecorder().install(monkeypatch)  # retried transport errors must not really wait

    def point(host: str) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_CONNECTWISE_DEFAULT", json.dumps({**CONNECTWISE, "host": host}))
        monkeypatch.setenv(
            "AIRFLOW_CONN_ADDIGY_DEFAULT", json.dumps({"conn_type": "addigy", "host": host, "password": "k"})
        )

    return point


def test_the_server_is_reachable_when_its_certificate_is_trusted(https_server):
    url, cert, handled = https_server
    assert requests.get(f"{url}/login/companyinfo/acme", verify=str(cert), timeout=5).ok
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{url}/login/companyinfo/acme", timeout=5)
    assert handled == ["/login/companyinfo/acme"]


def test_hooks_verify_certificates_by_default(https_server, connections):
    url, _, handled = https_server
    connections(url)
    with pytest.raises(ConnectWiseTransportError) as cw_error:
        ConnectWiseHook().get_system_info()
    with pytest.raises(AddigyTransportError) as addigy_error:
        AddigyHook().whoami()
    for error in (cw_error.value, addigy_error.value):
        assert "TLS certificate verification failed" in str(error)
        assert not is_retryable(error)  # waiting does not fix a certificate: fail at once
    ok, message = ConnectWiseHook().test_connection()
    assert not ok and "TLS certificate verification failed" in message
    assert handled == [], "a request got through an unverified TLS connection"


def test_the_async_client_of_the_triggers_verifies_certificates_too(https_server, connections):
    url, _, handled = https_server
    connections(url)
    with pytest.raises(ConnectWiseTransportError):
        # one attempt: the async retry waits on the event loop's clock, and a retry proves nothing here
        asyncio.run(ConnectWiseHook(retry=RetryPolicy(max_attempts=1)).aget_ticket(1))
    assert handled == []


def test_trusting_the_certificate_is_all_it_takes(https_server, connections, monkeypatch):
    """The other side of the proof: same server, same hooks, certificate trusted -> answers."""
    url, cert, handled = https_server
    connections(url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    assert ConnectWiseHook().get_system_info() == {"version": "v2025.1"}
    assert AddigyHook().whoami()["organization_id"] == "org-1"
    assert "/v2025_1/apis/3.0/system/info" in handled


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("http://connectwise.example.com", "plain http"),
        ("http://na.myconnectwise.net", "plain http"),
        ("http://10.0.0.5:8080", "plain http"),
        ("http://0.0.0.0:8765", "plain http"),
        ("http://127.0.0.1.nip.io", "plain http"),
        ("http://localhost.example.com", "plain http"),
        ("http://127.0.0.1@evil.example", "must not contain credentials"),
    ],
)
def test_plain_http_to_a_non_loopback_host_is_refused_before_any_request(host, reason, connections):
    connections(host)
    with requests_mock.Mocker() as mock:  # any request at all would be recorded here
        with pytest.raises(SiteError) as cw_error:
            ConnectWiseHook().get_system_info()
        with pytest.raises(SiteError):
            AddigyHook().whoami()
        ok, message = ConnectWiseHook().test_connection()
        assert mock.request_history == []
    assert reason in str(cw_error.value)
    assert not ok and message == str(cw_error.value)


@pytest.mark.parametrize(
    ("host", "root"),
    [
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765/"),
        ("localhost:8765", "http://localhost:8765/"),
        ("http://[::1]:8765", "http://[::1]:8765/"),
        ("connectwise.example.com", "https://connectwise.example.com/"),
        ("na.myconnectwise.net", "https://api-na.myconnectwise.net/"),
    ],
)
def test_http_only_on_loopback_and_https_everywhere_else(host, root, connections):
    connections(host)
    assert ConnectWiseHook().client.base_url == root


def test_a_redirect_is_never_followed(connections):
    """Following it would send the Authorization header on to whatever host the answer names."""
    connections("connectwise.example.com")
    with requests_mock.Mocker() as mock:
        mock.get(
            "https://connectwise.example.com/login/companyinfo/acme",
            json={"Codebase": "v2025_1/"},
        )
        mock.get(
            "https://connectwise.example.com/v2025_1/apis/3.0/system/info",
            status_code=302,
            headers={"Location": "http://evil.example/collect"},
        )
        with pytest.raises(ApiError) as error:
            ConnectWiseHook().get_system_info()
        assert [r.hostname for r in mock.request_history] == ["connectwise.example.com"] * 2
    assert error.value.status == 302
