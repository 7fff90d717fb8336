"""A visitor and an agent exchange messages over real WebSockets."""

from __future__ import annotations

from tests.support.actors import Scenario


async def test_visitor_starts_conversation_and_agent_replies(scenario: Scenario) -> None:
    visitor = await scenario.visitor()
    v = visitor.client()
    a = scenario.anna.client()
    await v.start()
    await a.start()
    try:
        cmid = await v.send("Hallo, ich brauche Hilfe mit meinem Tarif")
        ack = await v.wait_ack(cmid)
        conv = ack["conversation_id"]
        assert ack["seq"] == 1
        await a.wait_for(lambda: len(a.messages.get(conv, [])) == 1)
        assert a.messages[conv][0]["body"] == "Hallo, ich brauche Hilfe mit meinem Tarif"
        assert a.messages[conv][0]["author"]["kind"] == "visitor"

        reply = await a.send("Gern! Welcher Tarif?", conv)
        await a.wait_ack(reply)
        await v.wait_for(lambda: len(v.messages.get(conv, [])) == 2)
        assert [m["seq"] for m in v.messages[conv]] == [1, 2]
        assert v.messages[conv][1]["author"] == {
            "kind": "agent",
            "id": scenario.anna.id,
            "name": "Anna",
        }
    finally:
        await v.stop()
        await a.stop()


async def test_internal_note_never_reaches_visitor(scenario: Scenario) -> None:
    visitor = await scenario.visitor()
    v = visitor.client()
    a = scenario.anna.client()
    frames: list[dict] = []
    v.on_frame = frames.append
    await v.start()
    await a.start()
    try:
        conv = (await v.wait_ack(await v.send("Mein Promo-Code geht nicht"))).get("conversation_id")
        note = await a.send("SECRET-NOTE: customer is gold segment", conv, internal=True)
        await a.wait_ack(note)
        await v.wait_ack(await v.send("Hallo?", conv))
        reply = await a.send("Hier ist ein neuer Code: SAVE10", conv)
        await a.wait_ack(reply)
        await v.wait_for(lambda: any(m["body"].startswith("Hier") for m in v.messages[conv]))
        await a.wait_for(lambda: len(a.messages.get(conv, [])) == 4)
        assert all("SECRET-NOTE" not in str(f) for f in frames)
        assert [m["seq"] for m in v.messages[conv]] == [1, 3, 4]
        assert [m["seq"] for m in a.messages[conv]] == [1, 2, 3, 4]
    finally:
        await v.stop()
        await a.stop()
