"""The built front end over HTTP: pages name content-hashed files, which come precompressed
(brotli or gzip, as accepted) with immutable caching; the loader keeps its embeddable name
and a short cache; nothing outside the static folder is reachable."""

from __future__ import annotations

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
    # The frame loads its core only; the chat UI's files are named in its config, for later.
    assert re.search(r'<script src="/static/build/widget-core-[A-Z0-9]{8}\.js">', r.text)
    assert "<link" not in r.text and 'src="/static/build/widget-frame-' not in r.text
    config = html.unescape(re.search(r'data-config="([^"]*)"', r.text)[1])  # type: ignore[index]
    ui = json.loads(config)["ui"]
    assert re.fullmatch(r"/static/build/widget-frame-[A-Z0-9]{8}\.js", ui["js"])
    assert re.fullmatch(r"/static/build/widget-frame-[A-Z0-9]{8}\.css", ui["css"])
    assert (await anon.get(ui["js"])).status_code == 200
    assert (await anon.get(ui["css"])).status_code == 200


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
