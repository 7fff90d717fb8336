// What the visitor reads of co-browsing, in the widget's language (de/en/da): the consent prompt
// and support code in the widget frame, the banner and confirmations the recorder shows in the
// host page. The frame picks the language (as the widget does) and passes it to the recorder.
import { Lang, pickLang } from "../shared/bridge";

const en = {
  theAgent: "The agent",
  promptLabel: "Screen sharing",
  prompt: "would like to see this page with you (co-browsing). Passwords, card numbers and what you type stay hidden.",
  autoFollow: "Open pages the agent sends without asking",
  allow: "Allow",
  noThanks: "No, thanks",
  codeLabel: "Support code",
  codeText: "Read this code to the agent on the phone. It works once, for 20 minutes.",
  close: "Close",
  banner: (who: string) => `${who} can see this page (co-browsing). Passwords and card numbers stay hidden.`,
  bannerControl: (who: string) => `${who} can see and control this page.`,
  stop: "Stop sharing",
  suggestPage: (who: string, url: string) => `${who} suggests opening ${url}`,
  openPage: "Open page",
  stayHere: "Stay here",
  askControl: (who: string) =>
    `${who} asks to control this page (click, scroll and type for you). You can stop at any time.`,
  allowControl: "Allow control",
  no: "No",
};
export type CbStrings = typeof en;

const de: CbStrings = {
  theAgent: "Der Support",
  promptLabel: "Bildschirmfreigabe",
  prompt:
    "möchte diese Seite gemeinsam mit Ihnen ansehen (Co-Browsing). Passwörter, Kartennummern und Ihre Eingaben bleiben verborgen.",
  autoFollow: "Vom Support gesendete Seiten ohne Nachfrage öffnen",
  allow: "Erlauben",
  noThanks: "Nein, danke",
  codeLabel: "Support-Code",
  codeText: "Lesen Sie diesen Code am Telefon vor. Er gilt einmal und 20 Minuten lang.",
  close: "Schließen",
  banner: (who) => `${who} sieht diese Seite (Co-Browsing). Passwörter und Kartennummern bleiben verborgen.`,
  bannerControl: (who) => `${who} sieht und steuert diese Seite.`,
  stop: "Freigabe beenden",
  suggestPage: (who, url) => `${who} schlägt vor, ${url} zu öffnen`,
  openPage: "Seite öffnen",
  stayHere: "Hier bleiben",
  askControl: (who) =>
    `${who} bittet darum, diese Seite zu steuern (für Sie klicken, scrollen und tippen). Sie können jederzeit beenden.`,
  allowControl: "Steuerung erlauben",
  no: "Nein",
};

const da: CbStrings = {
  theAgent: "Supporten",
  promptLabel: "Skærmdeling",
  prompt:
    "vil gerne se denne side sammen med dig (co-browsing). Adgangskoder, kortnumre og det, du skriver, forbliver skjult.",
  autoFollow: "Åbn sider, som supporten sender, uden at spørge",
  allow: "Tillad",
  noThanks: "Nej tak",
  codeLabel: "Supportkode",
  codeText: "Læs denne kode op i telefonen. Den virker én gang i 20 minutter.",
  close: "Luk",
  banner: (who) => `${who} kan se denne side (co-browsing). Adgangskoder og kortnumre forbliver skjult.`,
  bannerControl: (who) => `${who} kan se og styre denne side.`,
  stop: "Stop deling",
  suggestPage: (who, url) => `${who} foreslår at åbne ${url}`,
  openPage: "Åbn siden",
  stayHere: "Bliv her",
  askControl: (who) =>
    `${who} beder om at styre denne side (klikke, rulle og skrive for dig). Du kan stoppe når som helst.`,
  allowControl: "Tillad styring",
  no: "Nej",
};

export const CB_STRINGS: Record<Lang, CbStrings> = { en, de, da };

export function cbStrings(lang?: string | null): CbStrings {
  return CB_STRINGS[pickLang(lang)];
}
