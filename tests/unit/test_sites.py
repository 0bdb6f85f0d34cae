"""Registrable domains (the contract's ``site``) and public suffixes."""

from __future__ import annotations

import pytest

from privacy_inspector.core import sites


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("www.liveops.com", "liveops.com"),
        (".liveops.com", "liveops.com"),
        ("LiveOps.COM.", "liveops.com"),
        ("a.b.c.example.co.uk", "example.co.uk"),
        ("example.co.uk", "example.co.uk"),
        ("foo.github.io", "foo.github.io"),  # a private-section suffix
        ("shop.example-shop.test", "example-shop.test"),  # unknown TLD: a public suffix
        ("127.0.0.1", "127.0.0.1"),
        ("10.1.2.3", "10.1.2.3"),
        ("[::1]", "[::1]"),
        ("::1", "::1"),
        ("localhost", "localhost"),
        ("1.2.3.example.com", "example.com"),
        ("", ""),
    ],
)
def test_registrable_domain(host, site):
    assert sites.registrable_domain(host) == site


@pytest.mark.parametrize(
    ("origin", "site"),
    [
        ("https://liveops.com", "liveops.com"),
        ("https://www.liveops.com:8443/", "liveops.com"),
        ("http://[::1]:8080", "[::1]"),
        ("", None),
    ],
)
def test_site_of_origin(origin, site):
    assert sites.site_of_origin(origin) == site


def test_public_suffixes():
    assert sites.is_public_suffix("co.uk")
    assert not sites.is_public_suffix("liveops.com")
