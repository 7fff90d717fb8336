"""CSV import (mapping, dry run, per-row errors, hostile files) and the streamed exports."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tests.integration.api.helpers import assert_error, start_conversation
from tests.support.actors import Agent, Scenario


async def site_id(sc: Scenario) -> int:
    return int((await sc.anna.http.get("/api/sites")).json()[0]["id"])


async def upload(
    agent: Agent,
    site: int,
    data: bytes,
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
) -> Any:
    return await agent.http.post(
        "/api/contacts/import",
        params={
            "site_id": site,
            "dry_run": str(dry_run).lower(),
            "mapping": json.dumps(mapping or {}),
        },
        content=data,
        headers={"Content-Type": "text/csv", "X-CSRF-Token": agent.csrf},
    )


async def test_dry_run_reports_and_writes_nothing_then_import(scenario: Scenario) -> None:
    site = await site_id(scenario)
    data = (
        b"Full name,E-Mail,Phone,Plan,Tags\n"
        b"Ada Lovelace,ada@example.com,+44 20 7946 0958,gold,vip|b2b\n"
        b"Bad Mail,not-an-email,,silver,\n"
        b"Ada Again,ADA@example.com,,bronze,\n"
        b"Bo,bo@example.com,,,\n"
        b"short,row\n"
    )
    mapping = {"Full name": "name", "E-Mail": "email", "Plan": "attributes.plan"}
    r = await upload(scenario.anna, site, data, mapping, dry_run=True)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["dry_run"] and report["rows"] == 5 and report["created"] == 2
    errors = {e["row"]: e for e in report["errors"]}
    assert errors[2]["column"] == "email" and "not an email" in errors[2]["error"]
    assert "duplicate of row 1" in errors[3]["error"]
    assert "cells" in errors[5]["error"]
    assert (await scenario.anna.http.get("/api/contacts", params={"q": "ada"})).json()[
        "contacts"
    ] == []

    r = await upload(scenario.anna, site, data, mapping)
    assert r.json()["created"] == 2 and r.json()["error_count"] == 3
    ada = (await scenario.anna.http.get("/api/contacts", params={"q": "ada@"})).json()["contacts"]
    assert len(ada) == 1 and ada[0]["phone"] == "+442079460958" and ada[0]["tags"] == ["vip", "b2b"]
    detail = (await scenario.anna.http.get(f"/api/contacts/{ada[0]['id']}")).json()
    assert detail["attributes"] == {"plan": "gold"}

    # importing again updates the known contact instead of creating one
    again = b"email,attributes\nada@example.com,platinum\n"
    r = await upload(scenario.anna, site, again, {"attributes": "attributes.plan"})
    assert r.json()["updated"] == 1 and r.json()["created"] == 0
    detail = (await scenario.anna.http.get(f"/api/contacts/{ada[0]['id']}")).json()
    assert detail["attributes"] == {"plan": "platinum"}


async def test_unknown_columns_and_bad_files_are_refused(scenario: Scenario) -> None:
    site = await site_id(scenario)
    r = await upload(scenario.anna, site, b"name,shoe size\nAda,38\n")
    assert "shoe size" in assert_error(r, 422, "bad_mapping")["message"]
    r = await upload(scenario.anna, site, b"name\nAda\n", {"missing": "email"})
    assert "unknown column 'missing'" in assert_error(r, 422, "bad_mapping")["message"]
    r = await upload(scenario.anna, site, b"name\nAda\n", {"name": "password"})
    assert_error(r, 422, "bad_mapping")
    assert_error(await upload(scenario.anna, site, b"\xff\xfe\x00n"), 422, "bad_csv")
    assert_error(await upload(scenario.anna, site, b""), 422, "bad_csv")
    r = await upload(scenario.anna, 999, b"name\nAda\n")
    assert_error(r, 404, "no_such_site")
    r = await scenario.anna.http.post(
        "/api/contacts/import", params={"site_id": site}, content=b"name\nAda\n"
    )
    assert_error(r, 403, "csrf")


async def test_hostile_csv(scenario: Scenario) -> None:
    """BOM, semicolons, formulas, a 100 KB cell: read right, stored as text, exported quoted."""
    site = await site_id(scenario)
    huge = "x" * 100_000
    data = (
        "\ufeffname;email;note\r\n"
        '=HYPERLINK("http://evil.example","click");formula@example.com;ok\r\n'
        f"Huge;huge@example.com;{huge}\r\n"
        '"Semi; colon";semi@example.com;"line\nbreak"\r\n'
        "@SUM(1+1);at@example.com;-2+3\r\n"
    ).encode()
    r = await upload(scenario.anna, site, data, {"note": "attributes.note"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 3
    assert report["errors"] == [
        {"row": 2, "column": "attributes.note", "error": "value too long (100000 characters)"}
    ]

    listed = (await scenario.anna.http.get("/api/contacts", params={"q": "example.com"})).json()
    names = {c["name"] for c in listed["contacts"]}
    assert names == {'=HYPERLINK("http://evil.example","click")', "Semi; colon", "@SUM(1+1)"}

    r = await scenario.anna.http.get("/api/exports/contacts", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    by_email = {row["email"]: row for row in rows}
    assert by_email["formula@example.com"]["name"].startswith("'=HYPERLINK")
    assert by_email["at@example.com"]["name"] == "'@SUM(1+1)"
    assert json.loads(by_email["at@example.com"]["attributes"]) == {"note": "-2+3"}
    assert by_email["semi@example.com"]["name"] == "Semi; colon"
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+-@\t\r", row

    r = await scenario.anna.http.get("/api/exports/contacts", params={"format": "json"})
    exported = {c["email"]: c for c in r.json()}
    assert exported["formula@example.com"]["name"].startswith("=HYPERLINK")  # JSON: as stored


async def test_conversation_export(scenario: Scenario) -> None:
    v = await scenario.visitor()
    conv = await start_conversation(v, "=1+1 my order", "second")
    r = await scenario.anna.http.get("/api/exports/conversations", params={"format": "csv"})
    rows = [row for row in csv.DictReader(io.StringIO(r.text.lstrip("\ufeff")))]
    mine = [row for row in rows if row["conversation_id"] == str(conv)]
    assert [row["body"] for row in mine] == ["'=1+1 my order", "second"]
    assert mine[0]["contact_id"]
    r = await scenario.anna.http.get("/api/exports/conversations", params={"format": "json"})
    conv_json = next(c for c in r.json() if c["id"] == conv)
    assert [m["body"] for m in conv_json["messages"]] == ["=1+1 my order", "second"]
    # agents do not export in bulk
    r = await scenario.ben.http.get("/api/exports/conversations")
    assert r.status_code == 403


async def test_agents_do_not_import(scenario: Scenario) -> None:
    r = await upload(scenario.ben, await site_id(scenario), b"name\nAda\n")
    assert_error(r, 403, "forbidden")
