"""Who is acting: a visitor of one site, or an agent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["visitor", "agent"]
    id: int
    name: str | None = None
    site_id: int | None = None
    role: str | None = None
    session_id: int | None = None  # an agent's socket: the login session its ticket came from
    # An API token acting for its owner: its id, its scopes ("conversations:read", ...) and,
    # if it names them, the only sites it may see (within its owner's).
    token_id: int | None = None
    scopes: frozenset[str] | None = None
    site_limit: frozenset[int] | None = None

    @property
    def is_admin(self) -> bool:
        return self.kind == "agent" and self.role == "admin"

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "id": self.id, "name": self.name, "role": self.role}
