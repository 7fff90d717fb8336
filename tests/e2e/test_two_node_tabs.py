"""One visitor, two tabs, each tab on a different node, in Chromium on the demo shop.

Two ``tresen demo`` processes share PostgreSQL and Redis behind one nginx (one origin, so both
tabs are the same visitor); nginx sends each tab's socket to a node by the tab's id (the widget
keeps it in the tab's session storage; this test names the tabs ``tab-a-…`` and ``tab-b-…``).
The live list shows one row with two tabs, the invitation shows in the focused tab only,
accepting it opens the chat there and the other tab shows it too; another visitor's "no thanks"
holds across pages in both tabs and on whichever node the next page lands.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.test_console import login
from tests.e2e.test_visit_journeys import ANY_SHOP_PAGE, THIRD_PAGE
from tests.e2e.test_widget import _frame, _wait_body
from tests.support.nginx import CONFIG, NginxProxy
from tests.support.server import ServerProcess
from tests.support.services import PostgresServer, RedisServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
TIMEOUT = 30_000
# Each tab's socket goes to the node its id names; everything else to node A.
TWO_NODES = CONFIG.replace(
    """    upstream tresen {{
        server {upstream};
        keepalive 8;
    }}""",
    """    map $arg_tab $node {{
        ~^tab-b tresen_b;
        default tresen_a;
    }}
    upstream tresen_a {{
        server {upstream};
    }}
    upstream tresen_b {{
        server {upstream_b};
    }}""",
).replace("proxy_pass http://tresen;", "proxy_pass http://$node;")


@pytest.fixture
def cluster(
    postgres: PostgresServer, redis_server: RedisServer, tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess, NginxProxy]]:
    # Playwright's loop runs in this thread: the database is made in another one.
    with ThreadPoolExecutor(1) as pool:
        pg_url = pool.submit(postgres.create_database, "t_" + uuid.uuid4().hex[:12]).result()
    nodes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        node = ServerProcess(
            {
                "TRESEN_VAR_DIR": str(tmp_path / name),
                "TRESEN_DATABASE_URL": pg_url,
                "TRESEN_REDIS_URL": redis_server.url,
                "TRESEN_NODE_NAME": name,
                "TRESEN_DEMO_PASSWORD": DEMO_PASSWORD,
                "TRESEN_SECRET_KEY": "e2e-two-nodes-secret",
                "TRESEN_LOG_LEVEL": "warning",
                "TRESEN_TRUSTED_PROXIES": '["127.0.0.3"]',
            },
            command="demo",
        )
        nodes.append(node)
    a, b = nodes
    proxy = NginxProxy(
        tmp_path / "nginx",
        f"127.0.0.1:{a.port}",
        host="127.0.0.2",
        proxy_bind="127.0.0.3",
        template=TWO_NODES,
        upstream_b=f"127.0.0.1:{b.port}",
    )
    for node in nodes:
        node.env["TRESEN_PUBLIC_URL"] = proxy.url
    proxy.start()
    try:
        a.start()  # migrates and seeds the demo; B finds it done
        b.start()
        yield a, b, proxy
    finally:
        b.stop()
        a.stop()
        proxy.stop()


def visitor_tab(context: Any, name: str, nodes_seen: dict[str, list[str]]) -> Any:
    """A new tab of the visitor whose widget names it ``name`` (kept across its pages); the
    node of each socket it opens is noted from the welcome frame."""
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(f"try {{ sessionStorage.setItem('tresen:tab', '{name}') }} catch (e) {{}}")
    seen = nodes_seen.setdefault(name, [])

    def on_socket(ws: Any) -> None:
        def frame(payload: Any) -> None:
            data = json.loads(payload)
            if data.get("type") == "welcome":
                seen.append(data.get("node"))

        ws.on("framereceived", frame)

    page.on("websocket", on_socket)
    return page


def rows(anna: httpx.Client, mark: str) -> list[dict[str, Any]]:
    """The visitor's rows (found by the page mark) in the live lists of both nodes (a request
    naming a ``tab-b`` goes to node B): at most one each, the holder's own or the other's
    replica of it."""
    found = []
    for node in ("tab-a", "tab-b"):
        r = anna.get("/api/radar/visitors", params={"tab": node})
        assert r.status_code == 200, r.text
        mine = [v for v in r.json() if mark in v["url"]]
        assert len(mine) <= 1, mine
        found += mine
    return found


def wait_row(page: Any, anna: httpx.Client, mark: str, **want: Any) -> dict[str, Any]:
    """The visitor's row, the same on both nodes, once the node holding the visit has handled
    what was sent."""
    seen: list[dict[str, Any]] = []
    for _ in range(300):
        seen = rows(anna, mark)
        if len(seen) == 2 and all(all(r.get(k) == v for k, v in want.items()) for r in seen):
            return seen[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"wanted a row with {want} on each node; the live lists show {seen}")


def bubble(page: Any) -> Any:
    return _frame(page).get_by_role("region", name="Invitation to chat")


def launcher(page: Any) -> Any:
    return _frame(page).get_by_role("button", name=re.compile("Open chat"))


def test_two_tabs_on_two_nodes_are_one_visit(
    cluster: tuple[ServerProcess, ServerProcess, NginxProxy], browser: Any, screenshot_dir: Path
) -> None:
    _a, _b, proxy = cluster
    anna = httpx.Client(base_url=proxy.url, verify=proxy.ssl_context(), timeout=15)
    r = anna.post("/api/auth/login", json={"username": "anna", "password": DEMO_PASSWORD})
    r.raise_for_status()
    anna.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    me = anna.get("/api/auth/me").json()["agent"]
    anna.patch(f"/api/agents/{me['id']}", json={"status": "online", "max_chats": 8})
    rule = anna.post("/api/radar/rules", json={"rule": THIRD_PAGE})
    assert rule.status_code == 201, rule.text
    console_ctx = browser.new_context(
        base_url=proxy.url, ignore_https_errors=True, viewport={"width": 1400, "height": 900}
    )
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 800})
    try:
        console_ctx.add_cookies(
            [{"name": k, "value": v, "url": proxy.url} for k, v in anna.cookies.items()]
        )
        console = console_ctx.new_page()
        console.set_default_timeout(TIMEOUT)
        console.logs = []
        console.on("console", lambda m: console.logs.append(m.text))
        login(console)
        console.click(".views button[data-view=radar]")

        mark = uuid.uuid4().hex[:8]
        nodes_seen: dict[str, list[str]] = {}
        first = visitor_tab(context, f"tab-a-{mark}", nodes_seen)
        first.goto(f"{proxy.url}/shop/?e2e={mark}")
        launcher(first).wait_for()
        wait_row(first, anna, mark, pages_viewed=1, tabs=1)
        second = visitor_tab(context, f"tab-b-{mark}", nodes_seen)
        second.goto(f"{proxy.url}/shop/products/nord-lamp?e2e={mark}")
        second.bring_to_front()
        launcher(second).wait_for()
        row = wait_row(second, anna, mark, pages_viewed=2, tabs=2)
        assert row["invited"] is False and bubble(first).count() == 0
        second.goto(f"{proxy.url}/shop/products/fjord-kettle?e2e={mark}")  # the third page
        second.bring_to_front()
        bubble(second).get_by_text("Found what you need?").wait_for()
        row = wait_row(second, anna, mark, pages_viewed=3, tabs=2, invited=True)
        assert row["offers_today"] == 1
        assert bubble(first).count() == 0  # the other tab heard of it and left it alone
        assert set(nodes_seen[f"tab-a-{mark}"]) == {"a"}
        assert set(nodes_seen[f"tab-b-{mark}"]) == {"b"}

        line = console.locator(f"table.radar-list tr[data-visitor='{row['id']}']")
        line.locator("[data-field=pages]:has-text('3')").wait_for()
        line.locator("[data-field=tabs]:has-text('2')").wait_for()
        assert console.locator(f"table.radar-list tr[data-visitor='{row['id']}']").count() == 1
        console.screenshot(path=str(screenshot_dir / "visits-two-nodes-live.png"))

        # Accepting in the focused tab (node B) opens the chat there; the tab on A shows it.
        bubble(second).get_by_role("button", name="Chat now").click()
        _wait_body(second, "Found what you need?")
        launcher(first).click()
        _wait_body(first, "Found what you need?")
        wait_row(second, anna, mark, chatting=True, invited=False, tabs=2)
        for c in anna.get("/api/conversations", params={"status": "open"}).json():
            if c["visitor_id"] == row["id"]:
                anna.patch(f"/api/conversations/{c['id']}", json={"status": "resolved"})
        anna.delete(f"/api/radar/rules/{rule.json()['id']}")

        # Another visitor says "no thanks" in a tab on node A; it holds in both tabs and nodes.
        rule = anna.post("/api/radar/rules", json={"rule": ANY_SHOP_PAGE})
        assert rule.status_code == 201, rule.text
        other = browser.new_context(
            ignore_https_errors=True, viewport={"width": 1280, "height": 800}
        )
        mark = uuid.uuid4().hex[:8]
        first = visitor_tab(other, f"tab-a-{mark}", nodes_seen)
        first.goto(f"{proxy.url}/shop/?e2e={mark}")
        bubble(first).get_by_text("Can I help you choose?").wait_for()
        bubble(first).get_by_role("button", name="No thanks").click()
        bubble(first).wait_for(state="detached")
        second = visitor_tab(other, f"tab-b-{mark}", nodes_seen)
        pages = [
            (second, "/shop/products/nord-lamp"),
            (first, "/shop/cart"),
            (second, "/shop/checkout"),
        ]
        for n, (tab, path) in enumerate(pages, start=2):
            tab.goto(f"{proxy.url}{path}?e2e={mark}")
            tab.bring_to_front()
            launcher(tab).wait_for()
            row = wait_row(tab, anna, mark, pages_viewed=n, tabs=2)
            assert row["invited"] is False and row["offers_today"] == 1
            assert bubble(first).count() == 0 and bubble(second).count() == 0
        first.close()
        second.close()  # no tab left: the visit is written through and let go
        third = visitor_tab(other, f"tab-b-{mark}-later", nodes_seen)  # on node B
        third.goto(f"{proxy.url}/shop/?e2e={mark}")
        launcher(third).wait_for()
        row = wait_row(third, anna, mark, pages_viewed=5, tabs=1)
        assert row["invited"] is False and row["offers_today"] == 1
        assert [o["outcome"] for o in row["offers"]] == ["dismissed"]
        assert bubble(third).count() == 0
        assert set(nodes_seen[f"tab-b-{mark}-later"]) == {"b"}
        other.close()
        anna.delete(f"/api/radar/rules/{rule.json()['id']}")
    finally:
        context.close()
        console_ctx.close()
        anna.close()
