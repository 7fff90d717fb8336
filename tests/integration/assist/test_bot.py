"""The FAQ bot over real sockets: answers, hands over with a summary note (asked, twice not
understood, or the "Talk to a person" frame), opened by a radar offer or the overflow choice."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.support.actors import Scenario, next_frame, raw_socket

FAQ = [
    {
        "question": "Wie lange dauert der Versand?",
        "answer": "Der Versand dauert 2 bis 3 Werktage.",
        "keywords": ["Versand", "Lieferung"],
        "language": "de",
    },
    {
        "question": "How do I return something?",
        "answer": "Returns are free within 30 days.",
        "keywords": ["return", "refund"],
        "language": "en",
    },
]


async def seed_faq(sc: Scenario) -> None:
    sites = (await sc.anna.http.get("/api/sites")).json()
    site_id = next(s["id"] for s in sites if s["widget_key"] == sc.site_key)
    for entry in FAQ:
        r = await sc.anna.post("/api/assist/faq", json={"site_id": site_id, **entry})
        assert r.status_code == 201, r.text


async def send(ws: Any, body: str, conv_id: int | None, cmid: str) -> int:
    frame: dict[str, Any] = {"type": "send", "client_msg_id": cmid, "body": body}
    if conv_id is not None:
        frame["conversation_id"] = conv_id
    await ws.send(json.dumps(frame))
    return int((await next_frame(ws, "ack"))["conversation_id"])


async def bot_says(ws: Any) -> str:
    while True:
        msg = await next_frame(ws, "message")
        if msg["author"]["kind"] == "bot":
            assert msg["author"]["name"] == "Tresen bot"
            return str(msg["body"])


async def into_bot_mode(sc: Scenario, first: str) -> tuple[Any, int]:
    """Nobody is online: the visitor's first message overflows and they choose the bot."""
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    conv_id = await send(ws, first, None, "m0")
    await next_frame(ws, "overflow")
    await ws.send(json.dumps({"type": "queue_choice", "conversation_id": conv_id, "choice": "bot"}))
    return ws, conv_id


async def conversation(sc: Scenario, conv_id: int) -> dict[str, Any]:
    return dict((await sc.anna.http.get(f"/api/conversations/{conv_id}")).json())


async def until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def online(sc: Scenario) -> None:
    r = await sc.anna.patch(f"/api/agents/{sc.anna.id}", json={"status": "online"})
    assert r.status_code == 200, r.text


async def test_overflow_choice_bot_answers_the_earlier_question_then_more(
    scenario: Scenario,
) -> None:
    await seed_faq(scenario)
    ws, conv_id = await into_bot_mode(scenario, "Wie lange dauert der Versand?")
    assert await bot_says(ws) == "Der Versand dauert 2 bis 3 Werktage."
    conv = await conversation(scenario, conv_id)
    assert conv["meta"]["bot"] is True and conv["queued_at"] is None
    await send(ws, "Can I get a refund?", conv_id, "m1")
    assert await bot_says(ws) == "Returns are free within 30 days."
    await ws.close()


async def test_two_unknown_questions_hand_over_to_a_free_agent_with_a_summary(
    scenario: Scenario,
) -> None:
    await seed_faq(scenario)
    ws, conv_id = await into_bot_mode(scenario, "Hallo")
    assert "Stellen Sie mir eine Frage" in await bot_says(ws)  # "Hallo": greeted in German
    await online(scenario)
    await send(ws, "Wie wird das Wetter in Hamburg?", conv_id, "m1")
    assert "weiß ich leider nicht" in await bot_says(ws)
    await send(ws, "Und was kostet ein Regenschirm?", conv_id, "m2")
    assert "Menschen" in await bot_says(ws)

    async def assigned() -> bool:
        return bool((await conversation(scenario, conv_id))["assignee_id"] == scenario.anna.id)

    await until(assigned)
    conv = await conversation(scenario, conv_id)
    assert conv["meta"]["bot"] is False and conv["meta"]["bot_handover"] == "no_answer"
    assert conv["priority"] >= 1
    history = (await scenario.anna.http.get(f"/api/conversations/{conv_id}/messages")).json()
    kinds = [m["author"]["kind"] for m in history]
    assert kinds.count("bot") == 3 and kinds.count("visitor") == 3
    assert {m["author"]["name"] for m in history if m["author"]["kind"] == "bot"} == {"Tresen bot"}
    note = next(m for m in history if m["internal"])
    assert note["body"].startswith("Handed over by the bot: the bot could not answer 2")
    assert "- Wie wird das Wetter in Hamburg?" in note["body"]
    assert "- Und was kostet ein Regenschirm?" in note["body"]
    await ws.close()


async def test_asking_for_a_person_hands_over(scenario: Scenario) -> None:
    await seed_faq(scenario)
    ws, conv_id = await into_bot_mode(scenario, "Wie lange dauert der Versand?")
    await bot_says(ws)
    await send(ws, "Mensch bitte", conv_id, "m1")
    assert "Menschen" in await bot_says(ws)
    # Back in the queue; nobody is online, so the visitor is told so honestly (again).
    overflow = await next_frame(ws, "overflow")
    assert overflow["conversation_id"] == conv_id and overflow["reason"] == "nobody_online"
    conv = await conversation(scenario, conv_id)
    assert conv["meta"]["bot_handover"] == "asked" and conv["queued_at"] is not None
    await ws.close()


async def test_talk_to_a_person_frame_hands_over_once(scenario: Scenario) -> None:
    await seed_faq(scenario)
    ws, conv_id = await into_bot_mode(scenario, "Hallo")
    await bot_says(ws)
    await ws.send(json.dumps({"type": "handover", "conversation_id": conv_id}))
    update = await next_frame(ws, "conversation")
    assert update["conversation"]["bot"] is False
    conv = await conversation(scenario, conv_id)
    assert conv["meta"]["bot_handover"] == "button" and conv["queued_at"] is not None
    await ws.send(json.dumps({"type": "handover", "conversation_id": conv_id}))
    assert (await next_frame(ws, "error"))["code"] == "not_bot"
    await ws.close()


async def test_bot_follows_the_visitor_switching_the_page_language(scenario: Scenario) -> None:
    """German so far; the visitor switches the shop to English and writes something whose
    words name no language: the bot answers in English (the page's), not in the chat's German."""
    await seed_faq(scenario)
    v = await scenario.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    page = {"type": "track", "kind": "page", "url": "https://shop.example/de/"}
    await ws.send(json.dumps({**page, "language": "de-DE"}))
    conv_id = await send(ws, "Wie lange dauert der Versand?", None, "m0")
    await next_frame(ws, "overflow")
    await ws.send(json.dumps({"type": "queue_choice", "conversation_id": conv_id, "choice": "bot"}))
    assert await bot_says(ws) == "Der Versand dauert 2 bis 3 Werktage."
    await ws.send(json.dumps({**page, "url": "https://shop.example/en/", "language": "en"}))
    await send(ws, "Pizza?", conv_id, "m1")
    assert (await bot_says(ws)).startswith("Sorry, I do not know that one.")
    conv = await conversation(scenario, conv_id)
    assert conv["meta"]["bot_lang"] == "en"
    await ws.close()


async def test_radar_bot_offer_opens_a_bot_conversation(scenario: Scenario) -> None:
    await seed_faq(scenario)
    rule = {
        "name": "FAQ bot on the shipping page",
        "when": {"url": {"glob": "/shipping"}},
        "action": {"type": "bot", "bot": "faq", "text": {"de": "Fragen zum Versand?"}},
    }
    r = await scenario.anna.post("/api/radar/rules", json={"rule": rule})
    assert r.status_code == 201, r.text
    v = await scenario.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    page = {"type": "track", "kind": "page", "url": "https://shop.example/shipping"}
    await ws.send(json.dumps({**page, "title": "Versand", "language": "de"}))
    offer = await next_frame(ws, "offer")
    assert offer["kind"] == "bot"
    reply = {"type": "offer_reply", "offer_id": offer["offer_id"], "outcome": "accepted"}
    await ws.send(json.dumps(reply))
    conv = (await next_frame(ws, "conversation"))["conversation"]
    assert conv["bot"] is True and conv["assignee_id"] is None
    assert await bot_says(ws) == "Fragen zum Versand?"
    agents_view = await conversation(scenario, conv["id"])
    assert agents_view["queued_at"] is None and agents_view["meta"]["bot"] is True
    await send(ws, "Wann kommt meine Lieferung?", conv["id"], "m1")
    assert await bot_says(ws) == "Der Versand dauert 2 bis 3 Werktage."
    await ws.close()


async def test_faq_admin_api(scenario: Scenario) -> None:
    await seed_faq(scenario)
    sites = (await scenario.anna.http.get("/api/sites")).json()
    site_id = sites[0]["id"]
    entries = (await scenario.anna.http.get("/api/assist/faq", params={"site_id": site_id})).json()
    assert [e["language"] for e in entries] == ["de", "en"]
    r = await scenario.anna.patch(f"/api/assist/faq/{entries[0]['id']}", json={"keywords": []})
    assert r.status_code == 200 and r.json()["keywords"] == []
    r = await scenario.anna.post(
        "/api/assist/faq", json={"site_id": site_id, "question": "", "answer": "x"}
    )
    assert r.status_code == 422
    assert (
        await scenario.ben.http.get("/api/assist/faq", params={"site_id": 1})
    ).status_code == 403
    csrf = {"X-CSRF-Token": scenario.anna.csrf}
    r = await scenario.anna.http.delete(f"/api/assist/faq/{entries[0]['id']}", headers=csrf)
    assert r.status_code == 204
    r = await scenario.anna.http.delete(f"/api/assist/faq/{entries[0]['id']}", headers=csrf)
    assert r.status_code == 404
