from __future__ import annotations

import pytest

from airflow_provider_connectwise.core.site import SiteError, normalise_codebase, parse_site_url


@pytest.mark.parametrize(
    ("pasted", "api_root", "browser_root"),
    [
        ("na.myconnectwise.net", "https://api-na.myconnectwise.net/", "https://na.myconnectwise.net/"),
        (
            "https://na.myconnectwise.net/",
            "https://api-na.myconnectwise.net/",
            "https://na.myconnectwise.net/",
        ),
        ("  NA.MyConnectWise.net  ", "https://api-na.myconnectwise.net/", "https://na.myconnectwise.net/"),
        ("api-na.myconnectwise.net", "https://api-na.myconnectwise.net/", "https://na.myconnectwise.net/"),
        (
            "https://api-eu.myconnectwise.net/v4_6_release/apis/3.0/",
            "https://api-eu.myconnectwise.net/",
            "https://eu.myconnectwise.net/",
        ),
        (
            "https://au.myconnectwise.net/v2025_1/ConnectWise.aspx?x=1",
            "https://api-au.myconnectwise.net/",
            "https://au.myconnectwise.net/",
        ),
        (
            "staging.connectwisedev.com",
            "https://api-staging.connectwisedev.com/",
            "https://staging.connectwisedev.com/",
        ),
        ("cw.example-msp.com", "https://cw.example-msp.com/", "https://cw.example-msp.com/"),
        (
            "https://cw.example-msp.com:8443/",
            "https://cw.example-msp.com:8443/",
            "https://cw.example-msp.com:8443/",
        ),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765/", "http://127.0.0.1:8765/"),
        ("http://localhost:8765/", "http://localhost:8765/", "http://localhost:8765/"),
        ("http://[::1]:8765", "http://[::1]:8765/", "http://[::1]:8765/"),
    ],
)
def test_site_url_normalisation(pasted, api_root, browser_root):
    site = parse_site_url(pasted)
    assert site.api_root == api_root
    assert site.browser_root == browser_root


def test_cloud_flag():
    assert parse_site_url("na.myconnectwise.net").is_cloud
    assert not parse_site_url("cw.example-msp.com").is_cloud


@pytest.mark.parametrize(
    ("pasted", "reason"),
    [
        ("", "empty"),
        ("http://na.myconnectwise.net", "HTTPS"),
        ("http://cw.example-msp.com", "HTTPS"),
        ("ftp://na.myconnectwise.net", "host name"),
        ("https://user:pw@na.myconnectwise.net", "credentials"),
        ("https://bad host/", "valid host"),
        ("https://na.myconnectwise.net:99999", "not a URL"),
    ],
)
def test_site_url_refusals(pasted, reason):
    with pytest.raises(SiteError, match=reason):
        parse_site_url(pasted)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("v2025_1/", "v2025_1/"), ("v4_6_release", "v4_6_release/"), ("/v2019_3/", "v2019_3/")],
)
def test_codebase_normalisation(raw, expected):
    assert normalise_codebase(raw) == expected


@pytest.mark.parametrize("raw", ["", "a/b/", "../", "v2025 1/"])
def test_codebase_refusals(raw):
    with pytest.raises(SiteError):
        normalise_codebase(raw)
