"""Calling a platform's HTTP API (Graph API for WhatsApp and Messenger, the Telegram Bot API)
with httpx, and turning its answer into a result or a ``DeliveryError``: 429, 5xx, throttling
codes and network trouble are temporary (the outbox retries with backoff), any other refusal is
permanent and its message is shown on the message."""

from __future__ import annotations

from typing import Any

import httpx

from tresen.channels.base import DeliveryError

# Graph API error codes that mean "slow down", whatever the HTTP status says
GRAPH_THROTTLED = {4, 17, 32, 613, 80007, 130429, 131048, 131056}


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def call(
    method: str,
    url: str,
    *,
    timeout: float,
    json: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    token: str | None = None,
    form: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> dict[str, Any]:
    """``form`` and ``files``: a ``multipart/form-data`` upload (a file: name, bytes, type)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            response = await client.request(
                method, url, json=json, params=params, headers=headers, data=form, files=files
            )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"the platform could not be reached: {type(exc).__name__}") from None
    data = _json(response)
    if response.is_success and data.get("ok", True) is not False:
        return data
    raise refusal(response.status_code, data)


def refusal(status: int, data: dict[str, Any]) -> DeliveryError:
    """Graph: ``{"error": {"message", "code", ...}}``; Telegram: ``{"ok": false,
    "error_code", "description"}``."""
    raw = data.get("error")
    error: dict[str, Any] = raw if isinstance(raw, dict) else {}
    code = error.get("code") if error else data.get("error_code")
    message = str(error.get("message") or data.get("description") or f"HTTP {status}")
    temporary = status == 429 or status >= 500 or (bool(error) and code in GRAPH_THROTTLED)
    text = f"{status} {f'(code {code}) ' if code is not None else ''}{message}"[:1000]
    return DeliveryError(text, permanent=not temporary)


async def download(
    url: str, *, timeout: float, max_bytes: int, token: str | None = None
) -> tuple[str, bytes] | None:
    """The body and its content type, or ``None`` when it is larger than ``max_bytes`` or
    cannot be fetched (streamed: a huge file is abandoned at the limit, not read whole)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
            async with client.stream("GET", url, headers=headers) as response:
                if not response.is_success:
                    return None
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    return None
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        return None
                    chunks.append(chunk)
                ctype = response.headers.get("content-type", "application/octet-stream")
                return ctype.split(";")[0].strip().lower(), b"".join(chunks)
    except httpx.HTTPError:
        return None
