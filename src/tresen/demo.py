"""Demo data: one site, agents anna (Sales) and ben (Support). Idempotent."""

from __future__ import annotations

import json
import os
import secrets

from sqlalchemy import select

from tresen.agents.actions import check_create_agent
from tresen.assist.demo_data import seed_assist
from tresen.runtime import Runtime, build_runtime
from tresen.settings import Settings
from tresen.sites.actions import do_create_site
from tresen.sites.queries import embed_snippet
from tresen.storage.models import Agent, Site

DEMO_SITE = "Demo shop"
DEMO_AGENTS = (
    ("anna", "Anna", "admin", ["Sales"]),
    ("ben", "Ben", "agent", ["Support"]),
)


async def seed_demo(settings: Settings) -> str:
    rt = build_runtime(settings)
    try:
        passwords = _demo_passwords(settings)
        async with rt.db.read() as s:
            site = (
                await s.execute(select(Site).where(Site.name == DEMO_SITE))
            ).scalar_one_or_none()
            existing = set((await s.execute(select(Agent.username))).scalars())
        if site is None:
            site = await do_create_site(rt, DEMO_SITE, _demo_origins(settings.public_url))
        await _seed_faq(rt, site.id)
        await seed_assist(rt, site.id)
        for username, name, role, skills in DEMO_AGENTS:
            if username not in existing:
                await check_create_agent(
                    rt, username, passwords[username], display_name=name, role=role, skills=skills
                )
        lines = [
            f"Tresen demo on {settings.public_url}",
            f"  console:   {settings.public_url}/console",
            f"  demo shop: {settings.public_url}/shop/",
            *(f"  agent {u}: password {passwords[u]}" for u, *_ in DEMO_AGENTS),
            f"  embed:     {embed_snippet(settings.public_url, site)}",
        ]
        return "\n".join(lines)
    finally:
        await rt.close()


def _demo_origins(public_url: str) -> list[str]:
    """The public URL, and its localhost/127.0.0.1 twin: opening the shop on the twin embeds
    the widget cross-origin, as on a real customer's site."""
    origin = public_url.rstrip("/")
    twins = {"//127.0.0.1": "//localhost", "//localhost": "//127.0.0.1"}
    for a, b in twins.items():
        if a + ":" in origin or origin.endswith(a):
            return [origin, origin.replace(a, b, 1)]
    return [origin]


def _demo_passwords(settings: Settings) -> dict[str, str]:
    """Random per install, kept in the var dir; TRESEN_DEMO_PASSWORD fixes them (tests)."""
    fixed = os.environ.get("TRESEN_DEMO_PASSWORD")
    if fixed:
        return {u: fixed for u, *_ in DEMO_AGENTS}
    path = settings.var_dir / "demo_credentials.json"
    if path.exists():
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    passwords = {u: secrets.token_urlsafe(9) for u, *_ in DEMO_AGENTS}
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(passwords))
    path.chmod(0o600)
    return passwords


DEMO_FAQ = (
    (
        "de",
        "Wie lange dauert der Versand?",
        "Der Versand dauert 2 bis 3 Werktage; ab 50 € liefern wir versandkostenfrei.",
        ["Versand", "Lieferung", "Lieferzeit", "liefern", "Paket"],
    ),
    (
        "en",
        "How long does shipping take?",
        "Shipping takes 2 to 3 working days; orders over €50 ship free.",
        ["shipping", "delivery", "deliver", "parcel"],
    ),
    (
        "de",
        "Wie kann ich etwas zurückgeben?",
        "Sie können 30 Tage lang kostenlos zurückgeben: Retourenschein unter Mein Konto > "
        "Bestellungen drucken und das Paket abgeben.",
        ["Rückgabe", "zurückgeben", "Retoure", "umtauschen", "Umtausch", "zurückschicken"],
    ),
    (
        "en",
        "How do I return something?",
        "You can return anything within 30 days for free: print the return label under "
        "My account > Orders and drop the parcel off.",
        ["return", "returns", "refund", "exchange", "send back"],
    ),
    (
        "de",
        "Mein Gutscheincode funktioniert nicht.",
        "Gutscheincodes gelten ab 20 € Bestellwert und nicht für reduzierte Artikel. "
        "Achten Sie auf Groß- und Kleinschreibung, z. B. SOMMER10.",
        ["Gutschein", "Gutscheincode", "Rabatt", "Rabattcode", "Code", "Promo"],
    ),
    (
        "en",
        "My promo code does not work.",
        "Promo codes apply to orders from €20 and not to reduced items. Mind upper and lower "
        "case, e.g. SUMMER10.",
        ["promo", "coupon", "voucher", "discount", "code"],
    ),
    (
        "de",
        "Wann haben Sie geöffnet?",
        "Unser Kundenservice ist montags bis freitags von 8 bis 18 Uhr erreichbar.",
        ["Öffnungszeiten", "geöffnet", "erreichbar", "Uhrzeit"],
    ),
    (
        "en",
        "What are your opening hours?",
        "Our customer service is available Monday to Friday, 8 am to 6 pm (CET).",
        ["opening", "hours", "open", "available"],
    ),
)


async def _seed_faq(rt: Runtime, site_id: int) -> None:
    """The bot's demo answers (shipping, returns, promo codes, opening hours), once."""
    from tresen.assist.actions import FaqSpec, check_create_entry, list_entries

    if await list_entries(rt, site_id):
        return
    for language, question, answer, keywords in DEMO_FAQ:
        spec = FaqSpec.model_validate(
            {"question": question, "answer": answer, "keywords": keywords, "language": language}
        )
        await check_create_entry(rt, site_id, spec)
