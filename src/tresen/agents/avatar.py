"""Agents' pictures: an optional small image shown to visitors (transfer notice, widget header,
invitations). Type-checked by its first bytes, bounded in size; served with nosniff."""

from __future__ import annotations

from sqlalchemy import select

from tresen.agents.queries import access_agent_by_id
from tresen.errors import Invalid
from tresen.runtime import Runtime
from tresen.storage.models import Agent

MAX_AVATAR_BYTES = 200 * 1024
TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def sniff(data: bytes) -> str | None:
    """The image type the bytes really are, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


async def check_set_avatar(
    rt: Runtime, agent_id: int, data: bytes | None, content_type: str | None
) -> Agent:
    """Store (or with ``data`` None remove) an agent's picture."""
    kind = None
    if data is not None:
        if not data:
            raise Invalid("the image is empty", code="bad_image")
        if len(data) > MAX_AVATAR_BYTES:
            raise Invalid(
                f"the image has {len(data)} bytes; the limit is {MAX_AVATAR_BYTES}",
                code="image_too_large",
            )
        kind = sniff(data)
        declared = (content_type or "").split(";")[0].strip().lower()
        if kind is None or declared != kind:
            raise Invalid(
                f"a PNG, JPEG, GIF or WebP image is needed ({', '.join(TYPES)}), "
                "sent with its own Content-Type",
                code="bad_image",
            )
    async with rt.db.write() as s:
        agent = await access_agent_by_id(s, agent_id)
        agent.avatar, agent.avatar_type = data, kind
        agent.avatar_at = rt.clock.now() if data is not None else None
    return agent


async def load_avatar(rt: Runtime, agent_id: int) -> tuple[bytes, str] | None:
    async with rt.db.read() as s:
        stmt = select(Agent.avatar, Agent.avatar_type).where(Agent.id == agent_id)
        row = (await s.execute(stmt)).first()
    if row is None or not row.avatar or row.avatar_type is None:
        return None
    return bytes(row.avatar), str(row.avatar_type)
