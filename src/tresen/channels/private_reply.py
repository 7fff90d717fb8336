"""Public to private: a comment on the company's Facebook page is a public conversation
(channel ``facebook``); the agent answers it publicly (an ordinary reply, posted under the
comment) or privately: a Messenger message to the commenter by ``recipient.comment_id``, which
opens a 1:1 Messenger conversation linked to the comment's (both ways, in ``meta``). When the
commenter answers in Messenger, the answer continues that conversation (``messaging_out``
records their Messenger id once the platform names it)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tresen.conversations.actions import check_body, do_send_message
from tresen.conversations.inbound import do_open_outbound
from tresen.conversations.queries import access_conversation_by_id
from tresen.conversations.sent import Sent
from tresen.errors import Conflict, Forbidden, Invalid
from tresen.principal import Principal
from tresen.runtime import Runtime


class PrivateReplyIn(BaseModel):
    body: str = Field(max_length=20000)
    client_msg_id: str = Field(min_length=1, max_length=64)


async def check_private_reply(
    rt: Runtime, who: Principal, conversation_id: int, data: PrivateReplyIn
) -> Sent:
    if who.kind != "agent" or who.id is None:
        raise Forbidden("only agents reply privately")
    body = check_body(rt, data.body)
    now = rt.clock.now()
    async with rt.db.write() as s:
        public = await access_conversation_by_id(s, who, conversation_id, lock=True)
        meta = public.meta or {}
        if public.channel != "facebook" or not meta.get("comment_id"):
            raise Invalid("a private reply answers a comment on the page", code="not_a_comment")
        if meta.get("private_conversation_id"):
            raise Conflict(
                "this comment was answered privately already; write in that conversation",
                code="private_reply_exists",
            )
        private = await do_open_outbound(
            s,
            site_id=public.site_id,
            visitor_id=public.visitor_id,
            channel="messenger",
            meta={
                "account_id": meta.get("account_id"),
                "comment_conversation_id": public.id,
                "comment_id": meta["comment_id"],
            },
            agent_id=who.id,
            now=now,
        )
        public.meta = {**meta, "private_conversation_id": private.id}
        private_id = private.id
    return await do_send_message(
        rt,
        who,
        body,
        data.client_msg_id,
        private_id,
        False,
        outbox_payload={"comment_id": meta["comment_id"]},
    )
