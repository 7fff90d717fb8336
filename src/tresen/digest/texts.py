"""The summary mail's and its opt-out pages' words in the console's languages (en, de, da)."""

from __future__ import annotations

LANGUAGES = ("en", "de", "da")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "daily": "Chat summary for {day}",
        "weekly": "Chat summary for the week {first} to {last}",
        "sites": "Sites: {sites} (days in {zone})",
        "all_sites": "all sites",
        "conversations": "Conversations",
        "service_level": "Service level",
        "first_response": "First response (average)",
        "abandonment": "Abandonment rate",
        "csat": "Customer satisfaction",
        "ratings": "{csat} ({n} ratings)",
        "invitations": "Invitations accepted",
        "accepted_of": "{accepted} of {shown} shown",
        "why": "You get this mail because you chose it in the console (Reports, Summary by email).",
        "stop": "Stop these mails",
        "stop_text": "Stop these mails: {url}",
        "page_title": "Summary by email",
        "confirm": "Stop the summary mails to {email}?",
        "confirm_button": "Stop them",
        "done": "The summary mails to {email} are off. You can turn them on again in the "
        "console (Reports, Summary by email).",
        "bad_link": "This link is not valid (any more): nothing was changed. Turn the summary "
        "off in the console (Reports, Summary by email).",
    },
    "de": {
        "daily": "Chat-Zusammenfassung für den {day}",
        "weekly": "Chat-Zusammenfassung für die Woche vom {first} bis {last}",
        "sites": "Websites: {sites} (Tage in {zone})",
        "all_sites": "alle Websites",
        "conversations": "Gespräche",
        "service_level": "Servicelevel",
        "first_response": "Erste Antwort (Durchschnitt)",
        "abandonment": "Abbruchrate",
        "csat": "Kundenzufriedenheit",
        "ratings": "{csat} ({n} Bewertungen)",
        "invitations": "Angenommene Einladungen",
        "accepted_of": "{accepted} von {shown} gezeigten",
        "why": "Sie erhalten diese E-Mail, weil Sie sie in der Konsole gewählt haben "
        "(Berichte, Zusammenfassung per E-Mail).",
        "stop": "Diese E-Mails abbestellen",
        "stop_text": "Diese E-Mails abbestellen: {url}",
        "page_title": "Zusammenfassung per E-Mail",
        "confirm": "Die Zusammenfassungen an {email} abbestellen?",
        "confirm_button": "Abbestellen",
        "done": "Die Zusammenfassungen an {email} sind abbestellt. In der Konsole (Berichte, "
        "Zusammenfassung per E-Mail) können Sie sie wieder einschalten.",
        "bad_link": "Dieser Link ist nicht (mehr) gültig: Es wurde nichts geändert. Sie können "
        "die Zusammenfassung in der Konsole abschalten (Berichte, Zusammenfassung per E-Mail).",
    },
    "da": {
        "daily": "Chatopsummering for {day}",
        "weekly": "Chatopsummering for ugen {first} til {last}",
        "sites": "Websteder: {sites} (dage i {zone})",
        "all_sites": "alle websteder",
        "conversations": "Samtaler",
        "service_level": "Serviceniveau",
        "first_response": "Første svar (gennemsnit)",
        "abandonment": "Frafaldsrate",
        "csat": "Kundetilfredshed",
        "ratings": "{csat} ({n} bedømmelser)",
        "invitations": "Accepterede invitationer",
        "accepted_of": "{accepted} af {shown} viste",
        "why": "Du får denne mail, fordi du har valgt den i konsollen "
        "(Rapporter, Opsummering pr. e-mail).",
        "stop": "Afmeld disse mails",
        "stop_text": "Afmeld disse mails: {url}",
        "page_title": "Opsummering pr. e-mail",
        "confirm": "Afmeld opsummeringerne til {email}?",
        "confirm_button": "Afmeld",
        "done": "Opsummeringerne til {email} er afmeldt. Du kan slå dem til igen i konsollen "
        "(Rapporter, Opsummering pr. e-mail).",
        "bad_link": "Dette link er ikke (længere) gyldigt: intet er ændret. Du kan slå "
        "opsummeringen fra i konsollen (Rapporter, Opsummering pr. e-mail).",
    },
}


def words(language: str | None, default: str = "en") -> dict[str, str]:
    """The texts of ``language`` (None or unknown: ``default``)."""
    return TEXTS.get(language or default) or TEXTS.get(default) or TEXTS["en"]
