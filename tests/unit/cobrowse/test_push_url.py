"""A pushed page is read as the visitor's browser will read it: only the site's own origins."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tresen.cobrowse.actions import check_site_url
from tresen.errors import Invalid

SITE: Any = SimpleNamespace(allowed_origins=["https://shop.example"])


@pytest.mark.parametrize(
    "url",
    [
        "/\\evil.example/x",  # a browser reads \ as /: //evil.example/x
        "/\t/evil.example",  # tabs and newlines are dropped: //evil.example
        "/\n/evil.example",
        "\\\\evil.example",
        "//evil.example/x",
        " //evil.example",
        "https://shop.example@evil.example/",
        "https://shop.example.evil.example/",
        "javascript:alert(1)",
        "http://shop.example/",  # another scheme is another origin
        "https://shop.example:8443/",
        "shop/cart",
    ],
)
def test_pages_off_the_site_are_refused(url: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_site_url(SITE, url)
    assert refused.value.code == "bad_url"


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("/shop/cart", "/shop/cart"),
        ("https://shop.example/shop/cart?x=1", "https://shop.example/shop/cart?x=1"),
        ("https://SHOP.example:443/a", "https://SHOP.example:443/a"),
        (" /shop/ca\trt ", "/shop/cart"),
    ],
)
def test_pages_on_the_site_are_pushed_as_the_browser_reads_them(url: str, sent: str) -> None:
    assert check_site_url(SITE, url) == sent
