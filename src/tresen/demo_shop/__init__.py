"""The demo shop served by ``tresen demo`` under /shop/. (Filled in by issue 3.)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
