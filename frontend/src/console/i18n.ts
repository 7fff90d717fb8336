// The console's language: English, German or Danish. The agent's choice is kept in
// localStorage; without one the browser's language decides. `t(key, vars)` fills `{name}` slots.

export type ConsoleLang = "en" | "de" | "da";
export const LANGS: [ConsoleLang, string][] = [
  ["en", "English"],
  ["de", "Deutsch"],
  ["da", "Dansk"],
];
const STORE_KEY = "tresen.console.lang";

const en = {
  loading: "Loading…",
  "login.title": "Tresen console",
  "login.form": "Log in",
  "login.username": "Username",
  "login.password": "Password",
  "login.submit": "Log in",
  "login.busy": "Logging in…",
  "login.failed": "Login failed.",
  "skip.conversations": "Skip to conversations",
  "skip.reply": "Skip to the reply box",
  "nav.main": "Console sections",
  "nav.chats": "Chats",
  "nav.callbacks": "Callbacks",
  "nav.contacts": "Contacts",
  "nav.visitors": "Visitors",
  "nav.kb": "Knowledge base",
  "nav.canned": "Canned",
  "nav.supervisor": "Supervisor",
  "nav.reports": "Reports",
  "nav.rules": "Rules",
  "nav.sites": "Sites",
  "nav.agents": "Agents",
  "nav.webhooks": "Webhooks",
  "nav.tokens": "API tokens",
  "nav.audit": "Audit",
  "header.status": "My status",
  "header.online": "Online",
  "header.away": "Away",
  "header.notifications": "Enable notifications",
  "header.sound": "Sound",
  "header.logout": "Log out",
  "header.language": "Language",
  "tabs.label": "Open chats (up to {n})",
  "tabs.close": "Close chat with {name}",
  "chats.pick": "Pick a conversation on the left.",
  "chats.keys": "Alt+1…5 switch chats · Alt+↑/↓ previous/next · Alt+W close tab",
  "inbox.label": "Conversations",
  "inbox.search": "Search messages",
  "inbox.results": "Results",
  "inbox.searchResults": "Search results",
  "inbox.clear": "Clear",
  "inbox.noMatch": "No message matches.",
  "inbox.none": "No conversations here.",
  "inbox.older": "Older",
  "inbox.resolvedTitle": "Resolved conversations",
  "view.mine": "Mine",
  "view.unassigned": "Unassigned",
  "view.all": "All open",
  "view.snoozed": "Snoozed",
  "view.resolved": "Resolved",
  "pane.label": "Conversation {id}",
  "pane.messages": "Messages",
  "pane.assign": "Assign to me",
  "pane.invite": "Invite to chat",
  "pane.transfer": "Transfer",
  "pane.reopen": "Reopen",
  "pane.close": "Close",
  "pane.older": "Load older messages",
  "pane.typing": "{name} is typing…",
  "pane.readOnly": "This chat was transferred to a colleague: you can read it, and add internal notes from their view.",
  "composer.reply": "Reply",
  "composer.note": "Internal note",
  "composer.replyPlaceholder": "Reply to the visitor",
  "composer.notePlaceholder": "Internal note (only agents see this)",
  "composer.blocked": "The reply window is closed: send a template, or write an internal note",
  "composer.send": "Send",
  "composer.addNote": "Add note",
  "composer.canned": "Canned responses",
  "composer.keys": "Enter sends · Shift+Enter new line · “/” canned · Alt+Shift+1…3 suggestion",
};

export type Key = keyof typeof en;
type Catalogue = Record<Key, string>;

const de: Catalogue = {
  loading: "Wird geladen…",
  "login.title": "Tresen-Konsole",
  "login.form": "Anmelden",
  "login.username": "Benutzername",
  "login.password": "Passwort",
  "login.submit": "Anmelden",
  "login.busy": "Anmeldung läuft…",
  "login.failed": "Anmeldung fehlgeschlagen.",
  "skip.conversations": "Zu den Unterhaltungen springen",
  "skip.reply": "Zum Antwortfeld springen",
  "nav.main": "Bereiche der Konsole",
  "nav.chats": "Chats",
  "nav.callbacks": "Rückrufe",
  "nav.contacts": "Kontakte",
  "nav.visitors": "Besucher",
  "nav.kb": "Wissensdatenbank",
  "nav.canned": "Textbausteine",
  "nav.supervisor": "Supervisor",
  "nav.reports": "Berichte",
  "nav.rules": "Regeln",
  "nav.sites": "Websites",
  "nav.agents": "Mitarbeiter",
  "nav.webhooks": "Webhooks",
  "nav.tokens": "API-Tokens",
  "nav.audit": "Protokoll",
  "header.status": "Mein Status",
  "header.online": "Online",
  "header.away": "Abwesend",
  "header.notifications": "Benachrichtigungen aktivieren",
  "header.sound": "Ton",
  "header.logout": "Abmelden",
  "header.language": "Sprache",
  "tabs.label": "Offene Chats (bis zu {n})",
  "tabs.close": "Chat mit {name} schließen",
  "chats.pick": "Wählen Sie links eine Unterhaltung.",
  "chats.keys": "Alt+1…5 Chat wechseln · Alt+↑/↓ vorheriger/nächster · Alt+W Tab schließen",
  "inbox.label": "Unterhaltungen",
  "inbox.search": "Nachrichten durchsuchen",
  "inbox.results": "Ergebnisse",
  "inbox.searchResults": "Suchergebnisse",
  "inbox.clear": "Leeren",
  "inbox.noMatch": "Keine Nachricht gefunden.",
  "inbox.none": "Hier sind keine Unterhaltungen.",
  "inbox.older": "Ältere",
  "inbox.resolvedTitle": "Erledigte Unterhaltungen",
  "view.mine": "Meine",
  "view.unassigned": "Nicht zugewiesen",
  "view.all": "Alle offenen",
  "view.snoozed": "Zurückgestellt",
  "view.resolved": "Erledigt",
  "pane.label": "Unterhaltung {id}",
  "pane.messages": "Nachrichten",
  "pane.assign": "Mir zuweisen",
  "pane.invite": "Zum Chat einladen",
  "pane.transfer": "Übergeben",
  "pane.reopen": "Wieder öffnen",
  "pane.close": "Beenden",
  "pane.older": "Ältere Nachrichten laden",
  "pane.typing": "{name} schreibt…",
  "pane.readOnly": "Dieser Chat wurde an eine Kollegin oder einen Kollegen übergeben: Sie können ihn lesen und in deren Ansicht interne Notizen ergänzen.",
  "composer.reply": "Antwort",
  "composer.note": "Interne Notiz",
  "composer.replyPlaceholder": "Dem Besucher antworten",
  "composer.notePlaceholder": "Interne Notiz (nur für Mitarbeiter sichtbar)",
  "composer.blocked": "Das Antwortfenster ist geschlossen: Senden Sie eine Vorlage oder schreiben Sie eine interne Notiz",
  "composer.send": "Senden",
  "composer.addNote": "Notiz hinzufügen",
  "composer.canned": "Textbausteine",
  "composer.keys": "Enter sendet · Umschalt+Enter neue Zeile · „/“ Textbausteine · Alt+Umschalt+1…3 Vorschlag",
};

const da: Catalogue = {
  loading: "Indlæser…",
  "login.title": "Tresen-konsol",
  "login.form": "Log ind",
  "login.username": "Brugernavn",
  "login.password": "Adgangskode",
  "login.submit": "Log ind",
  "login.busy": "Logger ind…",
  "login.failed": "Login mislykkedes.",
  "skip.conversations": "Gå til samtaler",
  "skip.reply": "Gå til svarfeltet",
  "nav.main": "Konsollens afsnit",
  "nav.chats": "Chats",
  "nav.callbacks": "Opkald",
  "nav.contacts": "Kontakter",
  "nav.visitors": "Besøgende",
  "nav.kb": "Vidensbase",
  "nav.canned": "Standardsvar",
  "nav.supervisor": "Supervisor",
  "nav.reports": "Rapporter",
  "nav.rules": "Regler",
  "nav.sites": "Websteder",
  "nav.agents": "Medarbejdere",
  "nav.webhooks": "Webhooks",
  "nav.tokens": "API-nøgler",
  "nav.audit": "Log",
  "header.status": "Min status",
  "header.online": "Online",
  "header.away": "Væk",
  "header.notifications": "Slå notifikationer til",
  "header.sound": "Lyd",
  "header.logout": "Log ud",
  "header.language": "Sprog",
  "tabs.label": "Åbne chats (op til {n})",
  "tabs.close": "Luk chatten med {name}",
  "chats.pick": "Vælg en samtale til venstre.",
  "chats.keys": "Alt+1…5 skift chat · Alt+↑/↓ forrige/næste · Alt+W luk fane",
  "inbox.label": "Samtaler",
  "inbox.search": "Søg i beskeder",
  "inbox.results": "Resultater",
  "inbox.searchResults": "Søgeresultater",
  "inbox.clear": "Ryd",
  "inbox.noMatch": "Ingen beskeder fundet.",
  "inbox.none": "Ingen samtaler her.",
  "inbox.older": "Ældre",
  "inbox.resolvedTitle": "Afsluttede samtaler",
  "view.mine": "Mine",
  "view.unassigned": "Ikke tildelt",
  "view.all": "Alle åbne",
  "view.snoozed": "Udsat",
  "view.resolved": "Afsluttet",
  "pane.label": "Samtale {id}",
  "pane.messages": "Beskeder",
  "pane.assign": "Tildel mig",
  "pane.invite": "Inviter til chat",
  "pane.transfer": "Overfør",
  "pane.reopen": "Genåbn",
  "pane.close": "Afslut",
  "pane.older": "Hent ældre beskeder",
  "pane.typing": "{name} skriver…",
  "pane.readOnly": "Denne chat blev overført til en kollega: du kan læse den og tilføje interne noter fra deres visning.",
  "composer.reply": "Svar",
  "composer.note": "Intern note",
  "composer.replyPlaceholder": "Svar den besøgende",
  "composer.notePlaceholder": "Intern note (kun medarbejdere kan se den)",
  "composer.blocked": "Svarvinduet er lukket: send en skabelon, eller skriv en intern note",
  "composer.send": "Send",
  "composer.addNote": "Tilføj note",
  "composer.canned": "Standardsvar",
  "composer.keys": "Enter sender · Shift+Enter ny linje · “/” standardsvar · Alt+Shift+1…3 forslag",
};

const CATALOGUES: Record<ConsoleLang, Catalogue> = { en, de, da };

function isLang(v: unknown): v is ConsoleLang {
  return v === "en" || v === "de" || v === "da";
}

function stored(): ConsoleLang | null {
  try {
    const v = localStorage.getItem(STORE_KEY);
    return isLang(v) ? v : null;
  } catch {
    return null;
  }
}

/** The browser's first language we have, else English. */
export function browserLang(langs: readonly string[] = navigator.languages ?? [navigator.language]): ConsoleLang {
  for (const l of langs) {
    const base = (l || "").toLowerCase().split("-")[0];
    if (isLang(base)) return base;
  }
  return "en";
}

let current: ConsoleLang = stored() ?? browserLang();
const listeners = new Set<() => void>();
document.documentElement.lang = current;

export function lang(): ConsoleLang {
  return current;
}

/** Switch language, remember it for this browser, and re-render the subscribers. */
export function setLang(next: ConsoleLang): void {
  current = next;
  try {
    localStorage.setItem(STORE_KEY, next);
  } catch {
    /* private mode: the choice lasts this page */
  }
  document.documentElement.lang = next;
  listeners.forEach((fn) => fn());
}

export function onLangChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The string for `key` in the current language, `{name}` slots filled from `vars`. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const text = CATALOGUES[current][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}
