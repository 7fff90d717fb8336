"""The condition leaves: each validates its argument and returns a compiled node."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

import re2
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tresen.radar.compiled import Compiled, Ctx, RuleError, never
from tresen.radar.ops import Comparison, compile_comparison

MAX_MATCHED_CHARS = 4096
"""Rule regexes see at most this much of a URL, title or referrer (frames cap URLs at 2048)."""


class _Arg(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(_Arg):
    """Exactly one of: glob (on the path), regex (on the full URL/text), contains, eq."""

    glob: str | None = None
    regex: str | None = None
    contains: str | None = None
    eq: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Match:
        if sum(v is not None for v in (self.glob, self.regex, self.contains, self.eq)) != 1:
            raise ValueError("give exactly one of glob, regex, contains, eq")
        if self.regex is not None:
            try:
                re2.compile(self.regex)
            except re2.error as exc:
                raise ValueError(f"bad regex (RE2 syntax, no backreferences): {exc}") from exc
        return self


class AtLeast(_Arg):
    gte: float = Field(ge=0)


class FormDwell(_Arg):
    form: str = Field(min_length=1)
    gte: float = Field(ge=0)


class Viewed(_Arg):
    glob: str | None = None
    product: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Viewed:
        if (self.glob is None) == (self.product is None):
            raise ValueError("give exactly one of glob, product")
        return self


class EventArg(_Arg):
    name: str = Field(min_length=1)
    within: float | None = Field(default=None, gt=0)
    props: dict[str, Comparison] = Field(default_factory=dict)


class AttrArg(Comparison):
    name: str = Field(min_length=1)


class Utm(_Arg):
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None


class SkillArg(_Arg):
    skill: str | None = None


class QueueWait(_Arg):
    skill: str | None = None
    lt: float = Field(gt=0)


def _glob(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """A glob compiled once to a regex matcher (fnmatch would re-translate on every call)."""
    return re.compile(fnmatch.translate(pattern)).match


def _parse(model: type[BaseModel], arg: Any, path: str) -> Any:
    try:
        return model.model_validate(arg)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise RuleError(f"{path}.{where}" if where else path, err["msg"]) from exc


def compile_matcher(m: Match, on_path: bool) -> Callable[[str, str], bool]:
    """A test of (path, full text). Globs look at the path, the rest at the full text."""
    if m.glob is not None:
        match = _glob(m.glob)
        return lambda path, full: match(path if on_path else full) is not None
    if m.regex is not None:
        rx = re2.compile(m.regex)  # linear time in the text: visitors choose their URLs
        return lambda path, full: rx.search(full[:MAX_MATCHED_CHARS]) is not None
    if m.contains is not None:
        needle = m.contains
        return lambda path, full: needle in full
    eq = m.eq
    return lambda path, full: (path if on_path else full) == eq


def _url(arg: Any, path: str) -> Compiled:
    test = compile_matcher(_parse(Match, arg, path), on_path=True)
    return Compiled(lambda c: test(c.facts.path, c.facts.url))


def _title(arg: Any, path: str) -> Compiled:
    test = compile_matcher(_parse(Match, arg, path), on_path=False)
    return Compiled(lambda c: test(c.facts.title, c.facts.title))


def _referrer(arg: Any, path: str) -> Compiled:
    test = compile_matcher(_parse(Match, arg, path), on_path=False)
    return Compiled(lambda c: test(c.facts.referrer, c.facts.referrer))


def _elapsed(start: Callable[[Ctx], float]) -> Callable[[Any, str], Compiled]:
    def leaf(arg: Any, path: str) -> Compiled:
        gte = _parse(AtLeast, arg, path).gte

        def wake(c: Ctx) -> float | None:
            due = start(c) + gte
            return due if due > c.now else None

        return Compiled(lambda c: c.now - start(c) >= gte, wake)

    return leaf


def _form_dwell(arg: Any, path: str) -> Compiled:
    a = _parse(FormDwell, arg, path)
    form, gte = a.form, a.gte

    def wake(c: Ctx) -> float | None:
        if c.facts.form != form:
            return None
        spent = c.facts.dwell_on(form, c.now)
        return c.now + (gte - spent) if spent < gte else None

    return Compiled(lambda c: c.facts.dwell_on(form, c.now) >= gte, wake)


def _pages_viewed(arg: Any, path: str) -> Compiled:
    gte = _parse(AtLeast, arg, path).gte
    return Compiled(lambda c: c.facts.pages_viewed >= gte)


def _viewed(arg: Any, path: str) -> Compiled:
    a = _parse(Viewed, arg, path)
    if a.product is not None:
        sku = a.product
        return Compiled(lambda c: sku in c.facts.products)
    match = _glob(a.glob or "")
    return Compiled(lambda c: any(match(p) is not None for p in c.facts.viewed))


def _event(arg: Any, path: str) -> Compiled:
    a = _parse(EventArg, arg, path)
    name, within = a.name, a.within
    checks = [(k, compile_comparison(v)) for k, v in a.props.items()]

    def matching(c: Ctx) -> list[float]:
        return [
            e.at
            for e in c.facts.events
            if e.name == name
            and (within is None or c.now - e.at <= within)
            and all(k in e.props and check(e.props[k]) for k, check in checks)
        ]

    def wake(c: Ctx) -> float | None:
        if within is None:
            return None
        ends = [at + within for at in matching(c)]
        return max(ends) + 0.001 if ends else None

    return Compiled(lambda c: bool(matching(c)), wake if within is not None else never)


def _attr(arg: Any, path: str) -> Compiled:
    a = _parse(AttrArg, arg, path)
    name, check = a.name, compile_comparison(a)
    return Compiled(lambda c: name in c.facts.attributes and check(c.facts.attributes[name]))


def _choice(field: str) -> Callable[[Any, str], Compiled]:
    def leaf(arg: Any, path: str) -> Compiled:
        values = [arg] if isinstance(arg, str) else arg
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise RuleError(path, "expects a string or a non-empty list of strings")
        wanted = tuple(v.lower() for v in values)
        if field == "language":
            return Compiled(lambda c: c.facts.language.lower().startswith(wanted))
        return Compiled(lambda c: getattr(c.facts, field).lower() in wanted)

    return leaf


def _returning(arg: Any, path: str) -> Compiled:
    if not isinstance(arg, bool):
        raise RuleError(path, "expects true or false")
    return Compiled(lambda c: c.facts.returning is arg)


def _utm(arg: Any, path: str) -> Compiled:
    wanted = _parse(Utm, arg, path).model_dump(exclude_none=True).items()
    return Compiled(lambda c: all(c.facts.utm.get(k) == v for k, v in wanted))


def _agent_free(arg: Any, path: str) -> Compiled:
    skill = _parse(SkillArg, arg, path).skill
    return Compiled(
        lambda c: c.optimistic or c.resources.agent_free(skill), skills=frozenset([skill])
    )


def _queue_wait(arg: Any, path: str) -> Compiled:
    a = _parse(QueueWait, arg, path)
    skill, lt = a.skill, a.lt
    return Compiled(
        lambda c: c.optimistic or c.resources.queue_wait(skill) < lt, skills=frozenset([skill])
    )


LEAVES: dict[str, Callable[[Any, str], Compiled]] = {
    "url": _url,
    "title": _title,
    "referrer": _referrer,
    "time_on_page": _elapsed(lambda c: c.facts.page_started_at),
    "time_on_site": _elapsed(lambda c: c.facts.site_started_at),
    "form_dwell": _form_dwell,
    "pages_viewed": _pages_viewed,
    "viewed": _viewed,
    "event": _event,
    "attr": _attr,
    "device": _choice("device"),
    "language": _choice("language"),
    "returning": _returning,
    "utm": _utm,
    "agent_free": _agent_free,
    "queue_wait": _queue_wait,
}
