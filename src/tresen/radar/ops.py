"""Comparisons on attribute and event-property values: eq ne gt gte lt lte in contains exists."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Op = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "exists"]


class Comparison(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: Op = "eq"
    value: Any = None


_ORDER = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def compile_comparison(cmp: Comparison) -> Callable[[Any], bool]:
    op, want = cmp.op, cmp.value
    if op == "exists":
        return lambda v: v is not None
    if op == "eq":
        return lambda v: v == want
    if op == "ne":
        return lambda v: v != want
    if op == "in":
        pool = list(want) if isinstance(want, list | tuple) else [want]
        return lambda v: v in pool
    if op == "contains":
        return lambda v: _contains(v, want)
    compare = _ORDER[op]
    return lambda v: _ordered(compare, v, want)


def _contains(value: Any, want: Any) -> bool:
    try:
        return want in value
    except TypeError:
        return False


def _ordered(compare: Callable[[Any, Any], bool], value: Any, want: Any) -> bool:
    try:
        return bool(compare(float(value), float(want)))
    except (TypeError, ValueError):
        return False
