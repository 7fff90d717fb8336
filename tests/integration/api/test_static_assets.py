"""The built front end over HTTP: pages name content-hashed files, which come precompressed
(brotli or gzip, as accepted) with immutable caching; the loader keeps its embeddable name
and a short cache; nothing outside the static folder is reachable."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re

import httpx
import pytest
from tests.support.actors import Scenario

from tresen.web.assets import BUILD

pytestmark = pytest.mark.skipif(
    not (BUILD / "manifest.json").is_file(), reason="front end not built (scripts/setup)"
)


async def test_console_assets_are_hashed_compressed_and_immutable(anon: httpx.AsyncClient) -> None:
    page = (await anon.get("/console")).text
    [js] = re.findall(r'<script src="(/static/build/console-[A-Z0-9]{8}\.js)"', page)
    [css] = re.findall(r'href="(/static/build/console-[A-Z0-9]{8}\.css)"', page)
    raw = (BUILD / js.rsplit("/", 1)[1]).read_bytes()
    for path in (js, css):
        r = await anon.get(path, headers={"Accept-Encoding": "br, gzip"})
        assert r.status_code == 200
        assert r.headers["content-encoding"] == "br"
        assert "immutable" in r.headers["cache-control"]
        age = re.search(r"max-age=(\d+)", r.headers["cache-control"])
        assert age is not None and int(age.group(1)) >= 365 * 24 * 3600
        assert "accept-encoding" in r.headers["vary"].lower()
        assert r.headers["x-content-type-options"] == "nosniff"
    gz = await anon.get(js, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip" and gz.content == raw  # httpx decodes gzip
    assert int(gz.headers["content-length"]) < len(raw) / 2
    plain = await anon.get(js, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == raw


async def test_widget_frame_names_hashed_files(anon: httpx.AsyncClient, scenario: Scenario) -> None:
    r = await anon.get(
        "/widget/frame", params={"site": scenario.site_key, "origin": "https://shop.example"}
    )
    assert r.status_code == 200
    # The frame's core is inlined (no request of its own), allowed by its hash, not by
    # 'unsafe-inline'; the chat UI's files are named in its config, for later.
    assert "<script src=" not in r.text and "<link" not in r.text
    inline = re.search(r"<script>(.*)</script>", r.text, re.S)
    assert inline is not None and "tresen-root" in inline[1]
    digest = base64.b64encode(hashlib.sha256(inline[1].encode()).digest()).decode()
    csp = r.headers["content-security-policy"]
    assert f"'sha256-{digest}'" in csp and "unsafe-inline" not in csp
    config = html.unescape(re.search(r'data-config="([^"]*)"', r.text)[1])  # type: ignore[index]
    ui = json.loads(config)["ui"]
    assert re.fullmatch(r"/static/build/widget-frame-[A-Z0-9]{8}\.js", ui["js"])
    assert re.fullmatch(r"/static/build/widget-frame-[A-Z0-9]{8}\.css", ui["css"])
    assert (await anon.get(ui["js"])).status_code == 200
    assert (await anon.get(ui["css"])).status_code == 200


async def test_widget_frame_is_gzipped_and_revalidates(
    anon: httpx.AsyncClient, scenario: Scenario
) -> None:
    params = {"site": scenario.site_key, "origin": "https://shop.example"}
    r = await anon.get("/widget/frame", params=params, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "no-cache" and r.headers["etag"]
    assert int(r.headers["content-length"]) < 8 * 1024
    again = await anon.get(
        "/widget/frame", params=params, headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304 and not again.content
    assert again.headers["content-security-policy"] == r.headers["content-security-policy"]
    # Another origin's frame (another CSP) is another response.
    other = await anon.get(
        "/widget/frame",
        params={**params, "origin": scenario.base_url},
        headers={"If-None-Match": r.headers["etag"]},
    )
    assert other.status_code == 200
    plain = await anon.get("/widget/frame", params=params, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == r.text


async def test_loader_keeps_its_name_and_a_short_cache(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "public, max-age=300"
    assert int(r.headers["content-length"]) < 10 * 1024
    assert b"cobrowse-recorder-" in r.content  # it names the recorder's hashed file
    plain = await anon.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert plain.content == r.content


async def test_nothing_outside_the_static_folder(anon: httpx.AsyncClient) -> None:
    for path in ("/static/../settings.py", "/static/build/../../app.py", "/static/%2e%2e/app.py"):
        r = await anon.get(path)
        assert r.status_code == 404, path
