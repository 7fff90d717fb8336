"""Routes that serve the widget: the loader script and the chat frame. (Filled in by issue 3.)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
