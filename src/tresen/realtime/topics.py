"""Bus topics, and so the recipients of what is published on them.

- ``v:<visitor id>``: that visitor's sockets (every tab, every node)
- ``a:<agent id>``: that agent's consoles
- ``w:<conversation id>``: consoles watching that conversation (a supervisor, an agent who
  opened it from the inbox)
- ``inbox``: admins' consoles (every site): conversation changes, and messages of
  conversations nobody has yet (the agents who may take them)
- ``inbox:<site id>``: the same for one site, joined by the consoles of agents who serve it
- ``radar``: admins' consoles with the live visitors view open (every site)
- ``radar:<site id>``: the live visitors of one site, for agents who serve it

Whatever goes to ``inbox`` also goes to ``inbox:<site>`` (and ``radar`` likewise): an agent's
socket joins only the topics of its sites (``agents/scope.py``), so it never receives another
site's frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

INBOX_TOPIC = "inbox"
RADAR_TOPIC = "radar"


def inbox_topic(site_id: int) -> str:
    return f"inbox:{site_id}"


def radar_topic(site_id: int) -> str:
    return f"radar:{site_id}"


def inbox_topics(site_id: int) -> list[str]:
    """Where a conversation's inbox frames go: admins, and the agents of its site."""
    return [INBOX_TOPIC, inbox_topic(site_id)]


def site_topics(
    everything: str, per_site: Callable[[int], str], sites: Iterable[int] | None
) -> list[str]:
    """The topics a console joins: ``everything`` for all sites (``sites`` None), else one per
    site it serves."""
    if sites is None:
        return [everything]
    return [per_site(s) for s in sorted(sites)]


def visitor_topic(visitor_id: int) -> str:
    return f"v:{visitor_id}"


def agent_topic(agent_id: int) -> str:
    return f"a:{agent_id}"


def watch_topic(conversation_id: int) -> str:
    return f"w:{conversation_id}"
