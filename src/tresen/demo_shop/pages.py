"""Server-rendered pages of the demo shop. Every value goes through ``e()`` (HTML escaping)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from html import escape

# The shop's form token (a CSRF token as real shops carry in a hidden field; one per process).
FORM_TOKEN = secrets.token_urlsafe(24)


def e(value: object) -> str:
    return escape(str(value), quote=True)


@dataclass(frozen=True)
class Product:
    slug: str
    name: str
    price_cents: int
    colour: str
    blurb: str
    details: tuple[str, ...]


PRODUCTS = (
    Product(
        "fjord-kettle",
        "Fjord kettle",
        4900,
        "#2f6f8f",
        "A 1.2 litre enamel kettle that boils on gas, induction and open fire.",
        ("1.2 litres", "Enamel on steel", "Works on induction", "Two-year warranty"),
    ),
    Product(
        "heide-blanket",
        "Heide wool blanket",
        8900,
        "#8a5a44",
        "Soft lambswool from the Lüneburger Heide, woven in a small Danish mill.",
        ("130 x 180 cm", "100% lambswool", "Hand wash cold", "Made in Denmark"),
    ),
    Product(
        "nord-lamp",
        "Nord table lamp",
        12900,
        "#c99a2e",
        "Oak and linen table lamp with a warm, dimmable LED.",
        ("Oak base, linen shade", "Dimmable 2700 K LED", "USB-C power", "Height 42 cm"),
    ),
    Product(
        "strand-mug",
        "Strand mug set",
        3400,
        "#4f8a6b",
        "Four stoneware mugs glazed in the colours of the North Sea coast.",
        ("Set of four", "350 ml each", "Dishwasher safe", "Stoneware"),
    ),
)
BY_SLUG = {p.slug: p for p in PRODUCTS}
FAILING_CODES = {"SUMMER"}


def money(cents: int) -> str:
    return f"€{cents // 100},{cents % 100:02d}"


def embed(public_url: str, site_key: str) -> str:
    """The widget exactly as a customer embeds it, plus the optional queue stub that lets the
    page call ``Tresen.*`` before the async script has loaded."""
    stub = (
        "<script>window.Tresen=window.Tresen||{q:[]};"
        '["open","close","identify","track","on"].forEach(function(m){'
        "window.Tresen[m]=window.Tresen[m]||function(){window.Tresen.q.push([m].concat("
        "[].slice.call(arguments)))}});</script>"
    )
    tag = (
        f'<script src="{e(public_url.rstrip("/"))}/widget.js" data-site="{e(site_key)}" '
        'data-topics="Sales,Support" async></script>'
    )
    return stub + "\n" + tag


def layout(title: str, body: str, *, embed_html: str, cart_count: int, extra: str = "") -> str:
    badge = f' <span class="count">{cart_count}</span>' if cart_count else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · Nordlys Home</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/shop/static/shop.css">
</head>
<body>
<header class="top">
  <a class="brand" href="/shop/">Nordlys <span>Home</span></a>
  <nav aria-label="Shop">
    <a href="/shop/">Shop</a>
    <a href="/shop/contact">Contact</a>
    <a href="/shop/cart" class="cart">Cart{badge}</a>
  </nav>
</header>
<main>
{body}
</main>
<footer class="foot">
  <p>Nordlys Home is the Tresen demo shop. Nothing here is for sale.</p>
  <p><a href="#support-code" id="support-code" data-tresen-support>Get a support code</a>
    (for co-browsing with an agent on the phone)</p>
  <script>document.getElementById("support-code").addEventListener("click", function (ev) {{
    ev.preventDefault();
    if (window.Tresen && window.Tresen.supportCode) window.Tresen.supportCode();
  }});</script>
</footer>
{embed_html}
{extra}
</body>
</html>
"""


def _tile(p: Product, big: bool = False) -> str:
    cls = "tile big" if big else "tile"
    style = f"background:{e(p.colour)}"
    return f'<div class="{cls}" style="{style}" aria-hidden="true">{e(p.name[0])}</div>'


def home_body() -> str:
    cards = "\n".join(
        f"""<li class="card">
  <a href="/shop/products/{e(p.slug)}">{_tile(p)}<h2>{e(p.name)}</h2></a>
  <p>{e(p.blurb)}</p>
  <p class="price">{money(p.price_cents)}</p>
</li>"""
        for p in PRODUCTS
    )
    return f"""<section class="hero">
  <h1>Warm things for long northern evenings</h1>
  <p>Hand-picked homeware from small makers in Denmark and northern Germany.</p>
</section>
<ul class="grid">
{cards}
</ul>"""


def product_body(p: Product) -> str:
    details = "".join(f"<li>{e(d)}</li>" for d in p.details)
    crumbs = f'<a href="/shop/">Shop</a> &rsaquo; {e(p.name)}'
    return f"""<nav class="crumbs" aria-label="Breadcrumb">{crumbs}</nav>
<article class="product">
  {_tile(p, big=True)}
  <div>
    <h1>{e(p.name)}</h1>
    <p class="price">{money(p.price_cents)}</p>
    <p>{e(p.blurb)}</p>
    <ul class="details">{details}</ul>
    <form method="post" action="/shop/cart/add">
      <input type="hidden" name="slug" value="{e(p.slug)}">
      <input type="hidden" name="form_token" value="{e(FORM_TOKEN)}">
      <label>Quantity <input type="number" name="qty" value="1" min="1" max="9"></label>
      <button class="primary" type="submit">Add to cart</button>
    </form>
  </div>
</article>"""


def cart_lines(cart: dict[str, int]) -> tuple[str, int]:
    rows, total = [], 0
    for slug, qty in cart.items():
        p = BY_SLUG[slug]
        total += p.price_cents * qty
        rows.append(
            f"<tr><td><a href='/shop/products/{e(p.slug)}'>{e(p.name)}</a></td>"
            f"<td>{qty}</td><td class='num'>{money(p.price_cents * qty)}</td></tr>"
        )
    return "".join(rows), total


def cart_body(cart: dict[str, int]) -> str:
    if not cart:
        return '<h1>Your cart</h1><p>Your cart is empty. <a href="/shop/">Keep browsing</a>.</p>'
    rows, total = cart_lines(cart)
    return f"""<h1>Your cart</h1>
<table class="lines"><thead><tr><th>Item</th><th>Qty</th><th class="num">Price</th></tr></thead>
<tbody>{rows}</tbody>
<tfoot><tr><th colspan="2">Total</th><th class="num">{money(total)}</th></tr></tfoot></table>
<div class="actions">
  <form method="post" action="/shop/cart/clear"><button type="submit">Empty cart</button></form>
  <a class="button primary" href="/shop/checkout">Checkout</a>
</div>"""


def checkout_body(cart: dict[str, int], code: str = "", error: str = "", ok: str = "") -> str:
    rows, total = cart_lines(cart)
    msg = ""
    if error:
        msg = f'<p class="error" role="alert" id="code-error">{e(error)}</p>'
    elif ok:
        msg = f'<p class="ok" role="status">{e(ok)}</p>'
    summary = (
        f'<table class="lines"><tbody>{rows}</tbody><tfoot><tr><th colspan="2">Total</th>'
        f'<th class="num">{money(total)}</th></tr></tfoot></table>'
        if cart
        else "<p>Your cart is empty, but you can still try a promo code.</p>"
    )
    return f"""<h1>Checkout</h1>
{summary}
<form class="checkout" id="checkout" method="post" action="/shop/checkout">
  <label>Name <input name="name" autocomplete="name"></label>
  <label>Email <input name="email" type="email" autocomplete="email"></label>
  <label>Address <textarea name="address" rows="3" autocomplete="street-address"></textarea></label>
  <label>Card number <input name="card" inputmode="numeric" autocomplete="cc-number"></label>
  <label>Password for an account (optional) <input name="password" type="password"
    autocomplete="new-password"></label>
  <div class="promo">
    <label>Promo code <input name="code" id="promo-code" value="{e(code)}"
      aria-describedby="code-error" data-tresen-allow></label>
    <button type="submit" name="action" value="code">Apply</button>
  </div>
  {msg}
  <button class="primary" type="submit" name="action" value="order">Place order</button>
</form>"""


def track_script(code: str) -> str:
    """Tell Tresen about the failed code."""
    return track_event("checkout_code_failed", {"code": code})


def track_event(name: str, props: dict[str, object]) -> str:
    """A ``Tresen.track`` call. JSON inside <script> with '<' and '>' escaped, so a value
    cannot close the script element."""
    data = json.dumps(props).replace("<", "\\u003c").replace(">", "\\u003e")
    return f"<script>window.Tresen.track({json.dumps(name)}, {data});</script>"


def product_tracking(p: Product) -> str:
    return track_event("product_viewed", {"sku": p.slug, "price": p.price_cents / 100})


def cart_tracking(cart: dict[str, int]) -> str:
    _, total = cart_lines(cart)
    return track_event("cart_updated", {"value": total / 100, "items": sum(cart.values())})


def contact_body(sent: bool = False) -> str:
    if sent:
        return (
            "<h1>Thank you</h1>"
            "<p role='status'>We received your message and reply within a day.</p>"
        )
    return """<h1>Contact us</h1>
<p>Questions about an order? Write to us, or use the chat in the corner.</p>
<form class="contact" id="contact" method="post" action="/shop/contact">
  <label>Name <input name="name" required autocomplete="name"></label>
  <label>Email <input name="email" type="email" required autocomplete="email"></label>
  <label>Message <textarea name="message" rows="5" required></textarea></label>
  <button class="primary" type="submit">Send</button>
</form>"""


def not_seeded() -> str:
    return (
        "<!doctype html><title>Demo shop</title><p>The demo shop runs with "
        "<code>tresen demo</code>, which seeds its site.</p>"
    )
