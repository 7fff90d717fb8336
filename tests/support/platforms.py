"""A fake of the messaging platforms at the HTTP edge: one local server (uvicorn on loopback)
that answers the Graph API (WhatsApp Cloud API, Messenger, page comments) and the Telegram Bot
API with the documented response shapes, serves media, records every request Tresen made, and
can be told to refuse the next calls (429, 5xx, a permanent 4xx). Also: signing a webhook body
as Meta does, and the reference payloads used as fixtures."""

from __future__ import annotations

import asyncio
import email.policy
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from email.parser import BytesParser
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.services import free_port
from tresen.cli import HTTP_KEEP_ALIVE_S

GRAPH_VERSION = "v21.0"


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw: bytes = b""

    def parts(self) -> dict[str, tuple[str | None, str, bytes]]:
        """A ``multipart/form-data`` body: field name -> (file name, type, bytes)."""
        ctype = self.headers.get("content-type", "")
        msg = BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + self.raw
        )
        out: dict[str, tuple[str | None, str, bytes]] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True)
            out[str(name)] = (part.get_filename(), part.get_content_type(), bytes(data or b""))
        return out


@dataclass
class FakePlatforms:
    port: int = field(default_factory=free_port)
    calls: list[Call] = field(default_factory=list)
    failures: list[list[Any]] = field(default_factory=list)  # [part, status, body, let pass]
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # media id -> type, bytes
    psid_for_comment: dict[str, str] = field(default_factory=dict)
    _counter: int = 0
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graph(self) -> str:
        return f"{self.url}/{GRAPH_VERSION}"

    def settings(self) -> dict[str, str]:
        """The settings that point Tresen's Graph and Telegram clients at this fake."""
        return {"graph_api_base": self.graph, "telegram_api_base": self.url}

    def fail_next(
        self, path_part: str, status: int, body: dict[str, Any] | None = None, after: int = 0
    ) -> None:
        """The next call whose path contains ``path_part`` (after letting ``after`` such calls
        through) is answered with ``status``."""
        self.failures.append([path_part, status, body or {}, after])

    def sent(self, path_part: str) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and path_part in c.path]

    async def start(self) -> FakePlatforms:
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])
        # Idle connections kept as long as the real platforms (and `tresen serve`) keep them: the
        # product's pooled client never sends on a connection closing at that moment.
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            timeout_keep_alive=HTTP_KEEP_ALIVE_S,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # it could not start: say why
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        path = "/" + request.path_params["path"]
        call = Call(
            request.method, path, dict(request.query_params), dict(request.headers), body, raw
        )
        self.calls.append(call)
        for i, (part, status, fail, after) in enumerate(self.failures):
            if part in path:
                if after:
                    self.failures[i][3] -= 1
                    break
                del self.failures[i]
                return JSONResponse(fail, status_code=status)
        if path.startswith("/cdn/"):  # Messenger's attachment URLs: signed, no token
            ctype, data = self.media[path.rsplit("/", 1)[1]]
            return Response(data, media_type=ctype)
        if path.startswith("/media/"):
            if request.headers.get("authorization", "") != "Bearer wa-token":
                return JSONResponse({"error": {"message": "no token", "code": 190}}, 401)
            ctype, data = self.media[path.rsplit("/", 1)[1]]
            return Response(data, media_type=ctype)
        if path.startswith("/bot") or path.startswith("/file/bot"):
            return self._telegram(path, call)
        return self._graph(path.removeprefix(f"/{GRAPH_VERSION}"), call)

    def _graph(self, path: str, call: Call) -> Response:
        if not call.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse(
                {
                    "error": {
                        "message": "An access token is required",
                        "type": "OAuthException",
                        "code": 104,
                    }
                },
                status_code=400,
            )
        n = self._next()
        parts = path.strip("/").split("/")
        if call.method == "GET" and len(parts) == 1 and parts[0] in self.media:
            ctype, data = self.media[parts[0]]
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "url": f"{self.url}/media/{parts[0]}",
                    "mime_type": ctype,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "file_size": len(data),
                    "id": parts[0],
                }
            )
        if parts == ["me", "message_attachments"]:
            return JSONResponse({"attachment_id": f"att{n}"})
        if len(parts) == 2 and parts[1] == "media" and call.method == "POST":
            return JSONResponse({"id": f"media{n}"})
        if parts == ["me", "messages"]:
            recipient = call.body.get("recipient", {})
            psid = recipient.get("id") or self.psid_for_comment.get(recipient.get("comment_id"), "")
            return JSONResponse({"recipient_id": psid, "message_id": f"m_fake{n}"})
        if len(parts) == 2 and parts[1] == "messages":
            to = call.body.get("to", "")
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": f"wamid.FAKE{n}"}],
                }
            )
        if len(parts) == 2 and parts[1] == "comments":
            return JSONResponse({"id": f"{parts[0]}_reply{n}"})
        return JSONResponse({"error": {"message": f"unknown path {path}", "code": 100}}, 400)

    def _telegram(self, path: str, call: Call) -> Response:
        n = self._next()
        if path.startswith("/file/bot"):
            ctype, data = self.media[path.rsplit("/", 1)[1]]
            return Response(data, media_type=ctype)
        method = path.rsplit("/", 1)[1]
        if method == "sendMessage":
            body = call.body
            return JSONResponse(
                {
                    "ok": True,
                    "result": {
                        "message_id": 1000 + n,
                        "chat": {"id": int(body["chat_id"]), "type": "private"},
                        "date": 1700000000,
                        "text": body["text"],
                    },
                }
            )
        if method in ("sendPhoto", "sendDocument"):
            chat = call.parts().get("chat_id", (None, "", b""))[2].decode()
            return JSONResponse(
                {
                    "ok": True,
                    "result": {
                        "message_id": 1000 + n,
                        "chat": {"id": int(chat), "type": "private"},
                        "date": 1700000000,
                    },
                }
            )
        if method == "getFile":
            file_id = call.query.get("file_id", "")
            return JSONResponse(
                {"ok": True, "result": {"file_id": file_id, "file_path": f"photos/{file_id}"}}
            )
        return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)


def meta_signature(app_secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


# ---- reference payloads (the platforms' documentation examples, ids adapted) -----------------


def wa_text(
    phone_number_id: str, wa_id: str, mid: str, ts: int, body: str, name: str = "Sheena Nelson"
) -> dict[str, Any]:
    """WhatsApp Cloud API ``messages`` webhook, text message (developers.facebook.com,
    whatsapp/webhooks/reference/messages)."""
    return wa_envelope(
        phone_number_id,
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": mid,
                    "timestamp": str(ts),
                    "type": "text",
                    "text": {"body": body},
                }
            ],
        },
    )


def wa_envelope(phone_number_id: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": phone_number_id,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def wa_status(phone_number_id: str, wamid: str, status: str, ts: int, wa_id: str) -> dict[str, Any]:
    """The ``statuses`` variant of the same webhook (sent, delivered, read, failed)."""
    return wa_envelope(
        phone_number_id,
        {
            "statuses": [
                {
                    "id": wamid,
                    "status": status,
                    "timestamp": str(ts),
                    "recipient_id": wa_id,
                    "pricing": {"billable": True, "pricing_model": "PMP", "category": "service"},
                }
            ],
        },
    )


def fb_message(page_id: str, psid: str, mid: str, ts_ms: int, text: str) -> dict[str, Any]:
    """Messenger ``messages`` webhook event (messenger-platform/reference/webhook-events)."""
    return {
        "object": "page",
        "entry": [
            {
                "id": page_id,
                "time": ts_ms,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": page_id},
                        "timestamp": ts_ms,
                        "message": {"mid": mid, "text": text},
                    }
                ],
            }
        ],
    }


def fb_comment(
    page_id: str, user_id: str, name: str, comment_id: str, post_id: str, ts: int, message: str
) -> dict[str, Any]:
    """Page ``feed`` webhook, a new comment (graph-api/webhooks/reference/page#feed)."""
    return {
        "object": "page",
        "entry": [
            {
                "id": page_id,
                "time": ts,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "from": {"id": user_id, "name": name},
                            "post": {
                                "status_type": "added_photos",
                                "is_published": True,
                                "id": post_id,
                            },
                            "message": message,
                            "post_id": post_id,
                            "comment_id": comment_id,
                            "created_time": ts,
                            "item": "comment",
                            "parent_id": post_id,
                            "verb": "add",
                        },
                    }
                ],
            }
        ],
    }


def tg_update(update_id: int, chat_id: int, message_id: int, ts: int, text: str) -> dict[str, Any]:
    """Telegram Bot API ``Update`` with a private ``Message`` (core.telegram.org/bots/api)."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {
                "id": chat_id,
                "is_bot": False,
                "first_name": "Jonas",
                "last_name": "Berg",
                "language_code": "de",
            },
            "chat": {"id": chat_id, "first_name": "Jonas", "last_name": "Berg", "type": "private"},
            "date": ts,
            "text": text,
        },
    }


class ThreadedFake:
    """The fake on an event loop of its own thread, for synchronous tests (end to end)."""

    def __init__(self) -> None:
        import threading

        self.fake = FakePlatforms()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> ThreadedFake:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
