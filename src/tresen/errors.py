"""Domain errors. Transports turn them into ``{"type": "error", ...}`` frames or HTTP 4xx JSON."""

from __future__ import annotations

MAX_ID = 2**63 - 1
"""Ids are SQL BIGINTs: a number beyond is no id of anything, and is refused before a query."""


class TresenError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class Invalid(TresenError):
    code = "invalid"
    status = 422


class NotFound(TresenError):
    code = "not_found"
    status = 404


class Forbidden(TresenError):
    code = "forbidden"
    status = 403


class Unauthorized(TresenError):
    code = "unauthorized"
    status = 401


class Conflict(TresenError):
    code = "conflict"
    status = 409


class Unavailable(TresenError):
    """Another part of the system did not answer in time (e.g. the node holding a visit)."""

    code = "unavailable"
    status = 503


class RateLimited(TresenError):
    code = "rate_limited"
    status = 429

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after  # seconds, sent as ``Retry-After`` over HTTP
