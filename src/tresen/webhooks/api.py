"""``/api/webhooks``: subscriptions, their delivery log and resends (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import func, select

from tresen.auth.deps import RT, AdminDep
from tresen.storage.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from tresen.webhooks.actions import (
    SubscriptionIn,
    SubscriptionPatch,
    access_subscription,
    check_create,
    check_delete,
    check_resend,
    check_rotate,
    check_update,
    subscription_view,
)
from tresen.webhooks.catalogue import EVENT_TYPES

router = APIRouter(tags=["webhooks"])


def _kick(request: Request) -> None:
    worker = getattr(request.app.state, "webhooks", None)
    if worker is not None:
        worker.kick()


@router.get("/api/webhooks/event-types")
async def event_types(who: AdminDep) -> list[str]:
    return list(EVENT_TYPES)


@router.get("/api/webhooks")
async def list_subscriptions(rt: RT, who: AdminDep) -> list[dict[str, Any]]:
    async with rt.db.read() as s:
        subs = (
            await s.execute(select(WebhookSubscription).order_by(WebhookSubscription.id))
        ).scalars()
        return [subscription_view(sub) for sub in subs]


@router.post("/api/webhooks", status_code=201)
async def create_subscription(body: SubscriptionIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    sub, secret = await check_create(rt, body, who)
    return {**subscription_view(sub), "secret": secret}


@router.get("/api/webhooks/{sub_id}")
async def get_subscription(sub_id: int, rt: RT, who: AdminDep) -> dict[str, Any]:
    async with rt.db.read() as s:
        return subscription_view(await access_subscription(s, sub_id))


@router.patch("/api/webhooks/{sub_id}")
async def patch_subscription(
    sub_id: int, body: SubscriptionPatch, rt: RT, who: AdminDep
) -> dict[str, Any]:
    return subscription_view(await check_update(rt, sub_id, body, who))


@router.delete("/api/webhooks/{sub_id}", status_code=204)
async def delete_subscription(sub_id: int, rt: RT, who: AdminDep) -> Response:
    await check_delete(rt, sub_id, who)
    return Response(status_code=204)


@router.post("/api/webhooks/{sub_id}/rotate-secret")
async def rotate_secret(sub_id: int, rt: RT, who: AdminDep) -> dict[str, Any]:
    sub, secret = await check_rotate(rt, sub_id, who)
    return {**subscription_view(sub), "secret": secret}


@router.get("/api/webhooks/{sub_id}/deliveries")
async def list_deliveries(
    sub_id: int,
    rt: RT,
    who: AdminDep,
    before: int | None = Query(default=None, ge=1),
    limit: int = Query(default=50, ge=1, le=200),
) -> dict[str, Any]:
    """The delivery log, newest first, each with its attempts; ``next`` pages on."""
    async with rt.db.read() as s:
        await access_subscription(s, sub_id)
        query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub_id)
        if before is not None:
            query = query.where(WebhookDelivery.id < before)
        rows = list(
            (await s.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit))).scalars()
        )
        attempts: dict[int, list[WebhookAttempt]] = {}
        if rows:
            found = await s.execute(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_([r.id for r in rows]))
                .order_by(WebhookAttempt.id)
            )
            for a in found.scalars():
                attempts.setdefault(a.delivery_id, []).append(a)
        counts = await s.execute(
            select(WebhookDelivery.status, func.count())
            .where(WebhookDelivery.subscription_id == sub_id)
            .group_by(WebhookDelivery.status)
        )
        return {
            "deliveries": [delivery_view(r, attempts.get(r.id, [])) for r in rows],
            "counts": {status: n for status, n in counts.all()},
            "next": rows[-1].id if len(rows) == limit else None,
        }


@router.post("/api/webhooks/deliveries/{delivery_id}/resend")
async def resend(delivery_id: int, request: Request, rt: RT, who: AdminDep) -> dict[str, Any]:
    row = await check_resend(rt, delivery_id, who)
    _kick(request)
    return delivery_view(row, [])


def delivery_view(row: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    return {
        "id": row.id,
        "delivery_id": row.delivery_id,
        "event_type": row.event_type,
        "status": row.status,
        "attempts": row.attempts,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "next_attempt_at": row.next_attempt_at.isoformat() if row.status == "pending" else None,
        "give_up_at": row.give_up_at.isoformat(),
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
        "created_at": row.created_at.isoformat(),
        "body": row.body,
        "log": [
            {
                "number": a.number,
                "at": a.started_at.isoformat(),
                "status_code": a.status_code,
                "error": a.error,
                "response": a.response,
                "duration_ms": a.duration_ms,
            }
            for a in attempts
        ],
    }
