// The launcher before the chat UI is loaded: one button drawn with the DOM (no Preact, no CSS
// file), looking like the UI's own (frame.css `.launcher`), in the same place. The UI replaces it.
// Styles are set through the CSSOM, which the frame's CSP (`style-src 'self'`) allows.
import type { Lang } from "../shared/bridge";

export const LAUNCHER_TEXT: Record<Lang, { open: string; unread: (n: number) => string }> = {
  en: { open: "Open chat", unread: (n) => `Open chat, ${n} unread ${n === 1 ? "message" : "messages"}` },
  de: { open: "Chat öffnen", unread: (n) => `Chat öffnen, ${n} ungelesene ${n === 1 ? "Nachricht" : "Nachrichten"}` },
  da: { open: "Åbn chat", unread: (n) => `Åbn chat, ${n} ulæste ${n === 1 ? "besked" : "beskeder"}` },
};

const SVG = "http://www.w3.org/2000/svg";
const ICON = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";

function css(el: HTMLElement | SVGElement, rules: Record<string, string>): void {
  for (const [k, v] of Object.entries(rules)) el.style.setProperty(k, v);
}

export class Launcher {
  readonly button: HTMLButtonElement;
  private badge: HTMLSpanElement;
  /** The visitor is pressing the button (pointer or Space down, not yet let go). */
  private pressed = false;
  /** The chat UI has taken over: the button goes once the press ends. */
  private gone = false;

  constructor(
    private lang: Lang,
    onOpen: () => void,
    onIntent: () => void,
  ) {
    const b = (this.button = document.createElement("button"));
    b.type = "button";
    b.className = "launcher";
    b.setAttribute("aria-expanded", "false");
    b.setAttribute("aria-haspopup", "dialog");
    css(b, {
      position: "fixed", right: "8px", bottom: "8px", width: "60px", height: "60px",
      "border-radius": "50%", border: "0", padding: "0", margin: "0", cursor: "pointer",
      background: "#2f5fd0", color: "#fff", display: "grid", "place-items": "center",
      "box-shadow": "0 4px 14px rgba(20,30,60,.3)",
    });
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", ICON);
    svg.appendChild(path);
    b.appendChild(svg);
    this.badge = document.createElement("span");
    this.badge.setAttribute("aria-hidden", "true");
    css(this.badge, {
      position: "absolute", top: "-4px", right: "-4px", "min-width": "22px", height: "22px",
      padding: "0 6px", "border-radius": "11px", background: "#d92d20", color: "#fff",
      font: "700 12px/22px system-ui,sans-serif", "text-align": "center", border: "2px solid #fff",
      "box-sizing": "border-box", display: "none",
    });
    b.appendChild(this.badge);
    b.addEventListener("click", onOpen);
    // The UI may take over between a press and its release (a pointer over the button fetches
    // it): the button stays until the press ends, or the click that opens the chat is lost.
    b.addEventListener("pointerdown", () => (this.pressed = true));
    b.addEventListener("keydown", (ev) => ev.key === " " && (this.pressed = true));
    const released = () => {
      if (!this.pressed) return;
      this.pressed = false;
      if (this.gone) setTimeout(() => this.button.remove()); // after the click it ends in
    };
    // Let go anywhere, or the pointer left the button (no click then) or the frame.
    for (const type of ["pointerup", "pointercancel", "keyup"]) document.addEventListener(type, released, true);
    b.addEventListener("pointerleave", released);
    window.addEventListener("blur", released);
    // A pointer over it or the keyboard on it: the visitor may open it, fetch the UI now.
    b.addEventListener("pointerenter", onIntent);
    b.addEventListener("focus", onIntent);
    this.update(0);
    css(document.body, { margin: "0", background: "transparent", overflow: "hidden" });
    document.body.appendChild(b);
  }

  update(unread: number): void {
    const t = LAUNCHER_TEXT[this.lang];
    this.button.setAttribute("aria-label", unread ? t.unread(unread) : t.open);
    this.badge.textContent = unread > 9 ? "9+" : String(unread);
    this.badge.style.display = unread > 0 ? "block" : "none";
  }

  /** The chat UI has its own launcher now; during a press, this one goes when it ends. */
  remove(): void {
    this.gone = true;
    if (!this.pressed) this.button.remove();
  }
}
