"""WhatsApp message templates a site registered (their text as approved by Meta, with
``{{1}}``.. placeholders), and sending one: the only reply WhatsApp accepts once the customer's
last message is more than 24 hours old. The message shows the filled-in text; the outbox item
carries the template's name, language and variables (``messaging_out.WhatsAppChannel``)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tresen.conversations.actions import check_body, do_send_message
from tresen.conversations.queries import access_conversation_by_id
from tresen.conversations.sent import Sent
from tresen.errors import Conflict, Invalid, NotFound
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.sites.queries import access_site_by_id
from tresen.storage.models import MessageTemplate

PLACEHOLDER = re.compile(r"\{\{(\d{1,2})\}\}")
NAME = re.compile(r"^[a-z0-9_]{1,512}$")


class TemplateIn(BaseModel):
    name: str = Field(max_length=512)
    language: str = Field(default="en", max_length=16)
    body: str = Field(min_length=1, max_length=1024)


class TemplateSend(BaseModel):
    template_id: int
    variables: list[str] = Field(default_factory=list, max_length=20)
    client_msg_id: str = Field(min_length=1, max_length=64)


def count_variables(body: str) -> int:
    numbers = sorted({int(n) for n in PLACEHOLDER.findall(body)})
    if numbers != list(range(1, len(numbers) + 1)):
        raise Invalid("placeholders must be {{1}}, {{2}}, .. without gaps", code="bad_template")
    return len(numbers)


def render(body: str, variables: list[str]) -> str:
    return PLACEHOLDER.sub(lambda m: variables[int(m.group(1)) - 1], body)


def template_view(row: MessageTemplate) -> dict[str, Any]:
    return {
        "id": row.id,
        "site_id": row.site_id,
        "name": row.name,
        "language": row.language,
        "body": row.body,
        "variables": row.variables,
    }


async def check_save_template(rt: Runtime, site_id: int, data: TemplateIn) -> MessageTemplate:
    if not NAME.match(data.name):
        raise Invalid("a template name is lower case letters, digits and _", code="bad_template")
    variables = count_variables(data.body)
    try:
        async with rt.db.write() as s:
            await access_site_by_id(s, site_id)
            row = MessageTemplate(
                site_id=site_id,
                name=data.name,
                language=data.language.strip() or "en",
                body=data.body,
                variables=variables,
                created_at=rt.clock.now(),
            )
            s.add(row)
            await s.flush()
    except IntegrityError:
        raise Conflict("this template and language exist already", code="template_exists") from None
    return row


async def do_delete_template(rt: Runtime, site_id: int, template_id: int) -> None:
    async with rt.db.write() as s:
        row = await s.get(MessageTemplate, template_id)
        if row is None or row.site_id != site_id:
            raise NotFound(f"no template {template_id}", code="no_template")
        await s.delete(row)


async def site_templates(rt: Runtime, site_id: int) -> list[MessageTemplate]:
    async with rt.db.read() as s:
        stmt = select(MessageTemplate).where(MessageTemplate.site_id == site_id)
        return list((await s.execute(stmt.order_by(MessageTemplate.name))).scalars())


async def check_send_template(
    rt: Runtime, who: Principal, conversation_id: int, data: TemplateSend
) -> Sent:
    async with rt.db.read() as s:
        conv = await access_conversation_by_id(s, who, conversation_id)
        row = await s.get(MessageTemplate, data.template_id)
    if conv.channel != "whatsapp":
        raise Invalid("templates are for WhatsApp conversations", code="not_whatsapp")
    if row is None or row.site_id != conv.site_id:
        raise NotFound(f"no template {data.template_id}", code="no_template")
    values = [v.strip() for v in data.variables]
    if len(values) != row.variables or any(not v or len(v) > 1000 for v in values):
        raise Invalid(
            f"template {row.name} needs {row.variables} non-empty variables",
            code="bad_variables",
        )
    body = check_body(rt, render(row.body, values))
    payload = {"template": {"name": row.name, "language": row.language, "params": values}}
    return await do_send_message(
        rt, who, body, data.client_msg_id, conversation_id, False, outbox_payload=payload
    )
