"""The demo shop under /shop/: a small web shop that embeds the widget as a customer would.

It is routed in every server but answers only where ``tresen demo`` has seeded its site
("Demo shop"): that is where it takes the site key from, and a production install without the
demo site shows nothing but a 404 note.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from tresen.auth.deps import RT
from tresen.demo_shop import pages
from tresen.runtime import Runtime
from tresen.storage.models import Site

router = APIRouter(prefix="/shop", include_in_schema=False)
STATIC = Path(__file__).resolve().parent / "static"
DEMO_SITE = "Demo shop"  # the name tresen.demo seeds
CART_COOKIE = "nordlys_cart"


async def _embed(rt: Runtime) -> str | None:
    async with rt.db.read() as s:
        key = (
            await s.execute(select(Site.widget_key).where(Site.name == DEMO_SITE))
        ).scalar_one_or_none()
    return None if key is None else pages.embed(rt.settings.public_url, key)


def _cart(request: Request) -> dict[str, int]:
    cart: dict[str, int] = {}
    for part in request.cookies.get(CART_COOKIE, "").split("."):
        slug, _, qty = part.partition("-x")
        if slug in pages.BY_SLUG and qty.isdigit():
            cart[slug] = min(int(qty), 99)
    return cart


def _set_cart(resp: Response, cart: dict[str, int]) -> None:
    value = ".".join(f"{slug}-x{qty}" for slug, qty in cart.items())
    resp.set_cookie(CART_COOKIE, value, httponly=True, samesite="lax", path="/shop")


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body())[:20000].decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(raw).items()}


async def _page(
    request: Request, rt: RT, title: str, body: str, extra: str = "", status: int = 200
) -> HTMLResponse:
    embed = await _embed(rt)
    if embed is None:
        return HTMLResponse(pages.not_seeded(), status_code=404)
    count = sum(_cart(request).values())
    html = pages.layout(title, body, embed_html=embed, cart_count=count, extra=extra)
    return HTMLResponse(html, status_code=status)


@router.get("/")
async def home(request: Request, rt: RT) -> HTMLResponse:
    return await _page(request, rt, "Shop", pages.home_body())


@router.get("/products/{slug}")
async def product(slug: str, request: Request, rt: RT) -> HTMLResponse:
    p = pages.BY_SLUG.get(slug)
    if p is None:
        return await _page(request, rt, "Not found", "<h1>No such product</h1>", status=404)
    return await _page(request, rt, p.name, pages.product_body(p), extra=pages.product_tracking(p))


@router.get("/cart")
async def cart(request: Request, rt: RT, updated: str = "") -> HTMLResponse:
    items = _cart(request)
    extra = pages.cart_tracking(items) if updated else ""
    return await _page(request, rt, "Cart", pages.cart_body(items), extra=extra)


@router.post("/cart/add")
async def cart_add(request: Request) -> Response:
    form = await _form(request)
    if not secrets.compare_digest(form.get("form_token", ""), pages.FORM_TOKEN):
        return HTMLResponse("<h1>The form expired; go back and try again</h1>", status_code=403)
    slug, qty = form.get("slug", ""), form.get("qty", "1")
    items = _cart(request)
    if slug in pages.BY_SLUG:
        items[slug] = min(items.get(slug, 0) + (int(qty) if qty.isdigit() else 1), 99)
    resp = RedirectResponse("/shop/cart?updated=1", status_code=303)
    _set_cart(resp, items)
    return resp


@router.post("/cart/clear")
async def cart_clear() -> Response:
    resp = RedirectResponse("/shop/cart?updated=1", status_code=303)
    resp.delete_cookie(CART_COOKIE, path="/shop")
    return resp


@router.get("/checkout")
async def checkout(request: Request, rt: RT) -> HTMLResponse:
    return await _page(request, rt, "Checkout", pages.checkout_body(_cart(request)))


@router.post("/checkout")
async def checkout_post(request: Request, rt: RT) -> HTMLResponse:
    form = await _form(request)
    code = form.get("code", "").strip()[:64]
    items = _cart(request)
    if code and code.upper() in pages.FAILING_CODES:
        error = f"The code {code} could not be applied. Need help? Ask us in the chat."
        body = pages.checkout_body(items, code, error=error)
        return await _page(request, rt, "Checkout", body, extra=pages.track_script(code))
    if code:
        body = pages.checkout_body(items, code, error=f"Unknown promo code {code}.")
        return await _page(request, rt, "Checkout", body)
    body = pages.checkout_body(items, ok="Thank you! This is a demo, so nothing was ordered.")
    return await _page(request, rt, "Checkout", body)


@router.get("/contact")
async def contact(request: Request, rt: RT) -> HTMLResponse:
    return await _page(request, rt, "Contact", pages.contact_body())


@router.post("/contact")
async def contact_post(request: Request, rt: RT) -> HTMLResponse:
    await _form(request)
    return await _page(request, rt, "Contact", pages.contact_body(sent=True))


@router.get("/static/shop.css")
async def css() -> FileResponse:
    return FileResponse(STATIC / "shop.css", media_type="text/css")
