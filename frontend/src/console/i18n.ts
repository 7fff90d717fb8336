// The console's language: English, German or Danish. The agent's choice is kept in
// localStorage; without one the browser's language decides. `t(key, vars)` fills `{name}` slots.
// The catalogues are in ./lang (en.ts has every key; de.ts and da.ts are checked against it).
import { da } from "./lang/da";
import { de } from "./lang/de";
import { en, type Catalogue } from "./lang/en";
import { daPages } from "./lang/da.pages";
import { dePages } from "./lang/de.pages";
import { enPages, type PagesCatalogue, type PagesKey } from "./lang/en.pages";

export type Key = keyof Catalogue | PagesKey;
export type ConsoleLang = "en" | "de" | "da";
export const LANGS: [ConsoleLang, string][] = [
  ["en", "English"],
  ["de", "Deutsch"],
  ["da", "Dansk"],
];
const STORE_KEY = "tresen.console.lang";

type Full = Catalogue & PagesCatalogue;
const EN: Full = { ...en, ...enPages };
const CATALOGUES: Record<ConsoleLang, Full> = { en: EN, de: { ...de, ...dePages }, da: { ...da, ...daPages } };

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
  return fill(CATALOGUES[current][key] ?? EN[key], vars);
}

/** A key made at run time (a status, an error code): its text if the catalogue has it, else null. */
export function tMaybe(key: string, vars: Record<string, string | number> = {}): string | null {
  if (!(key in EN)) return null;
  return t(key as Key, vars);
}

/** A value the server sends (a status, a channel, a role) shown in the current language, else as is. */
export function tValue(prefix: string, value: string): string {
  return tMaybe(`${prefix}.${value}`) ?? value;
}

function fill(text: string, vars: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}
