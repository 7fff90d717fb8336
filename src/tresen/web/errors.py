"""Every HTTP answer that is not a success is the product's JSON error, 4xx for what the client
sent, and a fault of ours is one 500 ``internal`` logged once (with its traceback)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tresen.errors import MAX_ID, Invalid, TresenError

log = logging.getLogger("tresen.web")


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"type": "error", "code": code, "message": message}, status_code=status)


async def bounded_numbers(conn: HTTPConnection) -> None:
    """A path or query parameter written as an integer must fit an id (64 bits): beyond, it is
    refused here instead of failing in the database."""
    values = [*conn.path_params.values(), *conn.query_params.values()]
    for value in values:
        text = str(value).strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isdigit() and len(digits) > 18 and abs(int(text)) > MAX_ID:
            raise Invalid("a number in the URL is out of range (ids fit in 64 bits)")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TresenError)
    async def _domain(request: Request, exc: TresenError) -> JSONResponse:
        log.info("%s %s -> %s %s", request.method, request.url.path, exc.status, exc.code)
        response = error_response(exc.status, exc.code, exc.message)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"]) or "request"
        return error_response(422, "invalid", f"{where}: {first['msg']}")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        code = codes.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
        log.info("%s %s -> 422 out of range: %s", request.method, request.url.path, exc)
        return error_response(422, "invalid", "a value is out of range")


class CatchAll:
    """The last word on a fault: a JSON 500 ``internal`` (if nothing was sent yet), logged once
    here with its traceback and not re-raised, so the server does not log it a second time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            log.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if not started:
                response = error_response(500, "internal", "something went wrong on our side")
                await response(scope, receive, send)
