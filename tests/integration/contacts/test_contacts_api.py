"""Contacts over HTTP: one contact per person across visitors and email, linked by verified
identity, merged and split by an agent, with notes, tags, attributes and consent."""

from __future__ import annotations

from tests.integration.api.helpers import assert_error, start_conversation
from tests.integration.contacts.helpers import contact_of, identified
from tests.support.actors import Scenario
from tests.support.server import InProcessServer

from tresen.channels.email_receive import check_receive_mail
from tresen.security.identity import identity_hash


def mail(sender: str, body: str, message_id: str) -> bytes:
    return (
        f"From: Someone <{sender}>\r\nTo: support@shop.example\r\nSubject: Order\r\n"
        f"Message-ID: <{message_id}@example.com>\r\nDate: Thu, 1 Jan 2026 09:00:00 +0000\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


async def test_every_visitor_has_a_contact_and_identify_links_them(scenario: Scenario) -> None:
    anon = await scenario.visitor()
    first = await contact_of(scenario, anon.id)
    a = await identified(
        scenario, "u-1", name="Ada", email="Ada@Example.com", attributes={"plan": "pro"}
    )
    b = await identified(scenario, "u-1", attributes={"seats": 3})  # another browser, same person
    ca, cb = await contact_of(scenario, a.id), await contact_of(scenario, b.id)
    assert ca == cb != first
    body = (await scenario.anna.http.get(f"/api/contacts/{ca}")).json()
    assert body["name"] == "Ada" and body["email"] == "ada@example.com"
    assert body["external_id"] == "u-1"
    assert body["attributes"] == {"plan": "pro", "seats": 3}
    kinds = {(i["kind"], i["verified"]) for i in body["identities"]}
    assert ("external_id", True) in kinds and ("email", True) in kinds

    # an unverified claim is no identity: that visitor keeps a contact of its own
    c = await scenario.visitor(identity={"id": "u-1", "hash": "0" * 64, "name": "Mallory"})
    assert await contact_of(scenario, c.id) != ca


async def test_mail_from_a_verified_address_joins_the_contact(
    server: InProcessServer, scenario: Scenario
) -> None:
    v = await identified(scenario, "u-2", name="Bo", email="bo@example.com")
    await start_conversation(v, "Hello from the web")
    site_id = (await scenario.anna.http.get("/api/sites")).json()[0]["id"]
    receipt = await check_receive_mail(
        server.rt, site_id, mail("BO@example.com", "Hello by mail", "m1")
    )
    assert receipt.outcome == "stored"
    cid = await contact_of(scenario, v.id)
    body = (await scenario.anna.http.get(f"/api/contacts/{cid}")).json()
    assert {c["channel"] for c in body["conversations"]} == {"web", "email"}
    assert any(c["last_message"]["body"] == "Hello by mail" for c in body["conversations"])

    # a stranger's mail is a contact of its own, with the address unverified
    await check_receive_mail(server.rt, site_id, mail("eve@example.com", "Hi", "m2"))
    found = (await scenario.anna.http.get("/api/contacts", params={"q": "eve@"})).json()
    assert len(found["contacts"]) == 1 and found["contacts"][0]["id"] != cid


async def test_create_update_notes_tags_and_errors(scenario: Scenario) -> None:
    site_id = (await scenario.anna.http.get("/api/sites")).json()[0]["id"]
    r = await scenario.ben.post(
        "/api/contacts",
        json={
            "site_id": site_id,
            "name": "Carla",
            "identities": [{"kind": "phone", "value": "+45 20 12 34 56"}],
            "tags": ["vip"],
        },
    )
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["phone"] == "+4520123456" and c["tags"] == ["vip"]
    r = await scenario.ben.patch(
        f"/api/contacts/{c['id']}",
        json={
            "add_tags": ["b2b"],
            "remove_tags": ["vip"],
            "consent": "granted",
            "attributes": {"company": "ACME"},
            "add_identities": [{"kind": "email", "value": "carla@acme.example"}],
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["tags"] == ["b2b"] and r.json()["consent"] == "granted"
    assert r.json()["consent_at"] is not None
    r = await scenario.ben.post(
        f"/api/contacts/{c['id']}/notes", json={"body": "<b>calls often</b>"}
    )
    assert r.status_code == 201
    assert r.json()["notes"][0]["body"] == "<b>calls often</b>"
    assert r.json()["notes"][0]["author_name"] == "Ben"

    # the same phone on another contact: a conflict, merge instead
    r = await scenario.ben.post(
        "/api/contacts",
        json={"site_id": site_id, "identities": [{"kind": "phone", "value": "0045 20123456"}]},
    )
    assert_error(r, 409, "identity_taken")
    r = await scenario.ben.post(
        "/api/contacts",
        json={"site_id": site_id, "identities": [{"kind": "email", "value": "not-an-address"}]},
    )
    assert_error(r, 422, "bad_email")
    r = await scenario.ben.http.patch(f"/api/contacts/{c['id']}", json={"name": "x"})
    assert_error(r, 403, "csrf")
    assert_error(await scenario.ben.http.get("/api/contacts/999999"), 404, "no_such_contact")
    listed = (await scenario.ben.http.get("/api/contacts", params={"tag": "b2b"})).json()
    assert [x["id"] for x in listed["contacts"]] == [c["id"]]


async def test_merge_and_split(scenario: Scenario) -> None:
    web = await scenario.visitor()
    conv = await start_conversation(web, "Where is my parcel?")
    other = await scenario.visitor()
    conv2 = await start_conversation(other, "Hello again")
    keep, gone = await contact_of(scenario, web.id), await contact_of(scenario, other.id)
    await scenario.anna.post(f"/api/contacts/{gone}/notes", json={"body": "second browser"})
    await scenario.anna.patch(f"/api/contacts/{gone}", json={"tags": ["returning"]})

    r = await scenario.anna.post(f"/api/contacts/{keep}/merge", json={"other_id": gone})
    assert r.status_code == 200, r.text
    merged = r.json()
    assert {c["id"] for c in merged["conversations"]} == {conv, conv2}
    assert [n["body"] for n in merged["notes"]] == ["second browser"]
    assert merged["tags"] == ["returning"]
    assert_error(await scenario.anna.http.get(f"/api/contacts/{gone}"), 404, "no_such_contact")
    assert await contact_of(scenario, other.id) == keep
    assert_error(
        await scenario.anna.post(f"/api/contacts/{keep}/merge", json={"other_id": keep}),
        422,
        "same_contact",
    )

    # split the second browser out again: its conversation goes with it
    ident = next(i for i in merged["identities"] if i["visitor_id"] == other.id)
    r = await scenario.anna.post(
        f"/api/contacts/{keep}/split", json={"identity_ids": [ident["id"]]}
    )
    assert r.status_code == 201, r.text
    new = r.json()
    assert [c["id"] for c in new["conversations"]] == [conv2]
    assert await contact_of(scenario, other.id) == new["id"]
    left = (await scenario.anna.http.get(f"/api/contacts/{keep}")).json()
    assert [c["id"] for c in left["conversations"]] == [conv]
    assert_error(
        await scenario.anna.post(
            f"/api/contacts/{new['id']}/split", json={"identity_ids": [ident["id"]]}
        ),
        422,
        "split_all",
    )


async def test_visitor_context_names_the_contact(scenario: Scenario) -> None:
    v = await scenario.visitor()
    body = (await scenario.anna.http.get(f"/api/visitors/{v.id}")).json()
    assert body["contact_id"] == await contact_of(scenario, v.id)


async def test_a_browser_that_logs_in_as_someone_else_leaves_the_first_persons_contact(
    scenario: Scenario,
) -> None:
    a = await identified(scenario, "u-a", name="Anne", email="anne@example.com")
    anne = await contact_of(scenario, a.id)
    # the same browser (its token), now someone else logged in
    b = await scenario.visitor(
        token=a.token,
        identity={
            "id": "u-b",
            "hash": identity_hash(scenario.identity_secret, "u-b"),
            "name": "Bert",
            # the hash covers the id only: an address of another identified person stays theirs
            "email": "anne@example.com",
        },
    )
    assert b.id == a.id
    bert = await contact_of(scenario, b.id)
    assert bert != anne
    anne_body = (await scenario.anna.http.get(f"/api/contacts/{anne}")).json()
    bert_body = (await scenario.anna.http.get(f"/api/contacts/{bert}")).json()
    assert anne_body["external_id"] == "u-a" and anne_body["email"] == "anne@example.com"
    assert bert_body["external_id"] == "u-b" and bert_body["email"] is None
    assert bert_body["name"] == "Bert" and anne_body["name"] == "Anne"
