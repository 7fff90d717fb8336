"""Origins on a site's allowlist are normalised to scheme://host[:port]."""

from __future__ import annotations

import pytest

from tresen.errors import Invalid
from tresen.sites.actions import normalize_origin


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://shop.example", "https://shop.example"),
        ("https://Shop.Example/", "https://shop.example"),
        ("  https://shop.example  ", "https://shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("http://shop.example:80/", "http://shop.example"),
        ("http://shop.example:443", "http://shop.example:443"),
        ("https://shop.example:8443", "https://shop.example:8443"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_normalises(given: str, expected: str) -> None:
    assert normalize_origin(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "shop.example",
        "ftp://shop.example",
        "javascript:alert(1)",
        "https://",
        "https://shop.example/path",
        "https://shop.example/?q=1",
        "https://shop.example/#x",
        "//shop.example",
    ],
)
def test_rejects_what_is_not_an_origin(bad: str) -> None:
    with pytest.raises(Invalid) as info:
        normalize_origin(bad)
    assert info.value.status == 422
    assert "origin" in info.value.message
