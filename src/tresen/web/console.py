"""Routes that serve the agent console. (Filled in by issue 3.)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
