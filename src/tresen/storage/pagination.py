"""Opaque cursors for list endpoints: ``?limit=&cursor=``, the next page's cursor in the answer.

A cursor is URL-safe base64 of a small JSON object (the last row's sort key); clients pass it
back unchanged and never build one. A cursor that does not decode is a 422.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Protocol

from tresen.errors import Invalid

MAX_LIMIT = 200
CURSOR_HEADER = "X-Next-Cursor"


def encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    """The key in ``cursor`` ({} for none)."""
    if not cursor:
        return {}
    try:
        if len(cursor) > 512:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
        if not isinstance(key, dict):
            raise ValueError("not an object")
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise Invalid("cursor: not a cursor this server gave", code="bad_cursor") from exc
    return key


def cursor_int(key: dict[str, Any], name: str) -> int | None:
    value = key.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid("cursor: not a cursor this server gave", code="bad_cursor")
    return value


def clamp_limit(limit: int) -> int:
    """1 to ``MAX_LIMIT`` rows a page."""
    return max(1, min(limit, MAX_LIMIT))


def page_of(rows: list[Any], limit: int, key_of: Any) -> tuple[list[Any], str | None]:
    """``rows`` fetched with ``limit + 1``: (the page, the cursor after it or None)."""
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, encode_cursor(key_of(page[-1]))


class _HasHeaders(Protocol):
    @property
    def headers(self) -> Any: ...


def set_next_cursor(response: _HasHeaders, cursor: str | None) -> None:
    """Lists the console reads as plain arrays keep that shape: their next page's cursor goes
    in the ``X-Next-Cursor`` header (absent on the last page)."""
    if cursor is not None:
        response.headers[CURSOR_HEADER] = cursor
