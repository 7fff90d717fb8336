"""The demo shop's knowledge base and canned responses (seeded once by ``tresen demo``; the
canned responses are the list the console had built in before they moved to the database)."""

from __future__ import annotations

from tresen.principal import Principal
from tresen.runtime import Runtime

# (language, category, title, body in Markdown, keywords)
DEMO_ARTICLES: tuple[tuple[str, str, str, str, list[str]], ...] = (
    (
        "en",
        "Orders and delivery",
        "Shipping times and costs",
        "Orders ship within **2 to 3 working days**.\n\n- Orders over €50 ship free.\n"
        "- Below that, shipping costs €4.90.\n- We deliver to Germany, Austria and Denmark.",
        ["shipping", "delivery", "parcel", "cost"],
    ),
    (
        "en",
        "Orders and delivery",
        "Tracking your order",
        "As soon as your parcel leaves our warehouse you get an email with a **tracking "
        "link**. You also find it under *My account > Orders*.",
        ["tracking", "track", "where", "order", "status"],
    ),
    (
        "en",
        "Returns and refunds",
        "Returning an item",
        "You can return anything within **30 days** for free.\n\n1. Print the return label "
        "under *My account > Orders*.\n2. Drop the parcel off at any post office.\n\n"
        "The refund reaches your account within 5 working days after we receive it.",
        ["return", "refund", "exchange", "send back"],
    ),
    (
        "en",
        "Payment",
        "Promo codes and vouchers",
        "Promo codes apply to orders from €20 and not to reduced items. Mind upper and lower "
        "case, e.g. `SUMMER10`. One code per order.",
        ["promo", "coupon", "voucher", "discount", "code"],
    ),
    (
        "en",
        "Payment",
        "Payment methods",
        "We accept credit cards (Visa, Mastercard), PayPal, invoice and direct debit. "
        "Invoices are due within 14 days.",
        ["payment", "pay", "paypal", "invoice", "card"],
    ),
    (
        "en",
        "Products",
        "Finding your size",
        "Our size chart is on every product page under *Size guide*. Between two sizes? "
        "Take the larger one: returns are free.",
        ["size", "fit", "chart", "small", "large"],
    ),
    (
        "de",
        "Bestellung und Versand",
        "Versandzeiten und -kosten",
        "Bestellungen werden innerhalb von **2 bis 3 Werktagen** versandt.\n\n"
        "- Ab 50 € ist der Versand kostenlos.\n- Darunter kostet er 4,90 €.",
        ["Versand", "Lieferung", "Lieferzeit", "Paket", "Versandkosten"],
    ),
    (
        "de",
        "Rückgabe und Erstattung",
        "Artikel zurückgeben",
        "Sie können 30 Tage lang **kostenlos** zurückgeben: Retourenschein unter *Mein Konto "
        "> Bestellungen* drucken und das Paket abgeben.",
        ["Rückgabe", "zurückgeben", "Retoure", "Umtausch", "Erstattung"],
    ),
    (
        "de",
        "Zahlung",
        "Gutscheincodes",
        "Gutscheincodes gelten ab 20 € Bestellwert und nicht für reduzierte Artikel. Achten "
        "Sie auf Groß- und Kleinschreibung, z. B. `SOMMER10`.",
        ["Gutschein", "Gutscheincode", "Rabatt", "Rabattcode", "Code"],
    ),
    (
        "da",
        "Levering",
        "Levering og fragt",
        "Vi sender inden for **2 til 3 hverdage**. Fri fragt ved køb over 50 €.",
        ["levering", "fragt", "pakke", "forsendelse"],
    ),
)

DEMO_CANNED: tuple[tuple[str, str, str], ...] = (
    (
        "hello",
        "Greeting",
        "Hello {{visitor.name}}, this is {{agent.name}}. How can I help you today?",
    ),
    (
        "moment",
        "One moment",
        "Thank you, {{visitor.name}}. Give me a moment while I look into this.",
    ),
    (
        "promo",
        "Promo code problem",
        "I'm sorry the promo code didn't work, {{visitor.name}}. Could you tell me the code "
        "you entered? I'll check it right away.",
    ),
    (
        "email",
        "Follow up by email",
        "I'll send the details to {{visitor.email}}. Is that address still right?",
    ),
    (
        "thanks",
        "Closing",
        "Thank you for chatting with us, {{visitor.name}}. Have a great day! — {{agent.name}}",
    ),
    (
        "price",
        "Shipping price",
        "Shipping is free from €50 at {{site.name}}; below that it costs €4.90.",
    ),
)


async def seed_assist(rt: Runtime, site_id: int) -> None:
    """The knowledge base and shared canned responses of the demo, once."""
    from tresen.assist import canned_actions as canned
    from tresen.assist import kb_actions as kb

    if not await kb.list_articles(rt, site_id):
        categories: dict[tuple[str, str], int] = {}
        for language, category, title, body, keywords in DEMO_ARTICLES:
            if (language, category) not in categories:
                spec = kb.CategorySpec(site_id=site_id, name=category, language=language)  # type: ignore[arg-type]
                categories[(language, category)] = (await kb.check_create_category(rt, spec)).id
            await kb.check_create_article(
                rt,
                kb.ArticleSpec.model_validate(
                    {
                        "site_id": site_id,
                        "title": title,
                        "body": body,
                        "language": language,
                        "category_id": categories[(language, category)],
                        "keywords": keywords,
                    }
                ),
            )
    system = Principal("agent", 0, name="demo", role="admin")
    async with rt.db.read() as s:
        have = {c.shortcut for c in await canned.list_canned(s, system)}
    for shortcut, title, body in DEMO_CANNED:
        if shortcut not in have:
            made = canned.CannedSpec(shortcut=shortcut, title=title, body=body, shared=True)
            await canned.check_create_canned(rt, system, made)
