"""The built front end: content-hashed file names (``manifest.json`` written by
``frontend/build.mjs``) for the HTML the server writes, and the static files served
precompressed (brotli or gzip, as the browser accepts) with a year of immutable caching for
hashed names, by ServeStatic. The loader, ``/widget.js``, keeps its name (sites embed it) and a
short cache."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response

STATIC = Path(__file__).resolve().parent.parent / "static"
BUILD = STATIC / "build"
HASHED = re.compile(r"-[A-Z0-9]{8}\.(js|css)$")
YEAR = 365 * 24 * 3600


@lru_cache(maxsize=4)
def _manifest(mtime: float) -> dict[str, str]:
    return dict(json.loads((BUILD / "manifest.json").read_text()))


def asset(name: str) -> str:
    """The URL of a built file by its plain name (``console.js``)."""
    path = BUILD / "manifest.json"
    try:
        hashed = _manifest(path.stat().st_mtime).get(name, name)
    except FileNotFoundError:
        hashed = name  # not built: the request 404s and says so
    return f"/static/build/{hashed}"


def _immutable(path: str, url: str) -> bool:
    return bool(HASHED.search(url))


def read_built(name: str) -> str | None:
    """A built file's text by its plain name (the frame inlines its core), None if not built."""
    try:
        hashed = _manifest((BUILD / "manifest.json").stat().st_mtime).get(name)
        return _read(str(BUILD / hashed)) if hashed else None
    except FileNotFoundError:
        return None


@lru_cache(maxsize=8)
def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def static_options() -> dict[str, Any]:
    """ServeStatic's settings for ``/static/...`` (it picks ``.br``/``.gz`` by itself)."""
    return {
        "root": STATIC,
        "prefix": "static",
        "max_age": 300,
        "immutable_file_test": _immutable,
        "allow_all_origins": False,
    }


def precompressed(path: Path, headers: Headers, media_type: str, extra: dict[str, Any]) -> Response:
    """``path`` as the best encoding the request accepts of those built beside it."""
    accepted = {e.split(";")[0].strip() for e in headers.get("accept-encoding", "").split(",")}
    out = {**extra, "Vary": "Accept-Encoding"}
    for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
        packed = path.with_name(path.name + suffix)
        if encoding in accepted and packed.is_file():
            return FileResponse(
                packed, media_type=media_type, headers={**out, "Content-Encoding": encoding}
            )
    return FileResponse(path, media_type=media_type, headers=out)
