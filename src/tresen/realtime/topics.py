"""Bus topics, and so the recipients of what is published on them.

- ``v:<visitor id>``: that visitor's sockets (every tab, every node)
- ``a:<agent id>``: that agent's consoles
- ``w:<conversation id>``: consoles watching that conversation (a supervisor, an agent who
  opened it from the inbox)
- ``inbox``: every agent console: conversation changes, and messages of conversations nobody
  has yet (the agents who may take them)
- ``radar``: consoles with the live visitors view open
"""

from __future__ import annotations

INBOX_TOPIC = "inbox"
RADAR_TOPIC = "radar"


def visitor_topic(visitor_id: int) -> str:
    return f"v:{visitor_id}"


def agent_topic(agent_id: int) -> str:
    return f"a:{agent_id}"


def watch_topic(conversation_id: int) -> str:
    return f"w:{conversation_id}"
