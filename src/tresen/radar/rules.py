"""Rules: a condition tree, an action, a priority. Validated by pydantic, compiled once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tresen.radar.compiled import Compiled, RuleError
from tresen.radar.conditions import compile_condition


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: dict[str, Annotated[str, Field(min_length=1, max_length=1000)]]
    skill: str | None = None

    @field_validator("text")
    @classmethod
    def _has_text(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError('give the text per language, e.g. {"en": "...", "de": "..."}')
        return v


class InviteAction(_Action):
    """Show an invitation; the chat panel opens only if ``auto_open`` (off by default)."""

    type: Literal["invite"]
    agent_name: str | None = None
    agent_photo: str | None = None
    auto_open: bool = False


class MessageAction(_Action):
    """Send a message, e.g. a working promo code."""

    type: Literal["message"]


class BotAction(_Action):
    type: Literal["bot"]
    bot: str = "faq"


Action = Annotated[InviteAction | MessageAction | BotAction, Field(discriminator="type")]


class Goal(BaseModel):
    """What the rule should bring: a named event (``Tresen.track("purchase", {value: 129})``)
    or a page (a glob on the path, e.g. ``/checkout/done``)."""

    model_config = ConfigDict(extra="forbid")

    event: str | None = Field(default=None, min_length=1, max_length=100)
    url: str | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one(self) -> Goal:
        if (self.event is None) == (self.url is None):
            raise ValueError('give either "event" or "url"')
        return self


DEFAULT_GOAL = Goal(event="purchase")


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    priority: int = Field(default=100, ge=0, le=100_000)
    when: dict[str, Any]
    action: Action
    # Share of matching visitors kept as a control group (not invited, recorded as held out).
    # The rule builder proposes 0.1; rules saved without it keep inviting everyone.
    control: float = Field(default=0.0, ge=0.0, le=0.5)
    goal: Goal = DEFAULT_GOAL


RESOURCE_LEAVES = frozenset({"agent_free", "queue_wait"})


@dataclass(frozen=True, slots=True)
class Rule:
    """``behaviour`` is what the visitor does; ``needs`` the resource conditions (or None).

    A rule holds when both do. Keeping them apart lets the engine test behaviour first, wait on
    a skill only when behaviour holds, and schedule wake-ups from behaviour alone. When the tree
    nests resource conditions deeper than its top ``all``, behaviour is the whole tree read
    optimistically (resources assumed free) and needs is the whole tree read for real.
    """

    id: int
    site_id: int | None
    spec: RuleSpec
    cond: Compiled
    behaviour: Compiled
    needs: Compiled | None

    @property
    def skill(self) -> str | None:
        """The skill an accepted offer is routed with: the action's, else the condition's."""
        if self.spec.action.skill is not None:
            return self.spec.action.skill
        named = [s for s in self.cond.skills if s is not None]
        return sorted(named)[0] if named else None

    @property
    def paced(self) -> bool:
        """Offers that lead to an agent are only made while that capacity exists."""
        return self.spec.action.type != "message" or bool(self.cond.skills)


def parse_rule(data: Any) -> RuleSpec:
    """Validate a rule's JSON; RuleError says where the fault is."""
    try:
        spec = RuleSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "rule"
        raise RuleError(where, err["msg"]) from exc
    compile_condition(spec.when)
    return spec


def compile_rule(rule_id: int, site_id: int | None, data: Any) -> Rule:
    spec = data if isinstance(data, RuleSpec) else parse_rule(data)
    cond = compile_condition(spec.when)
    behaviour, needs = _split(spec.when, cond)
    return Rule(rule_id, site_id, spec, cond, behaviour, needs)


def _split(when: dict[str, Any], cond: Compiled) -> tuple[Compiled, Compiled | None]:
    if not cond.skills:
        return cond, None
    parts = when.get("all") if len(when) == 1 else None
    if isinstance(parts, list):
        wants = [p for p in parts if isinstance(p, dict) and set(p) <= RESOURCE_LEAVES]
        rest = [p for p in parts if p not in wants]
        rest_cond = compile_condition({"all": rest}) if rest else None
        if rest_cond is not None and not rest_cond.skills:
            return rest_cond, compile_condition({"all": wants})
        if rest_cond is None:
            return Compiled(lambda c: True), compile_condition({"all": wants})
    return cond, cond


def pick_text(texts: dict[str, str], language: str) -> str:
    lang = language.lower()[:2]
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()))
