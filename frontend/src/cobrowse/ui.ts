// What the visitor sees of co-browsing in the page itself: the banner with Stop, the agent's
// pointer, and the confirmations (open a pushed page? allow control?). Marked data-tresen-cb,
// so the recorder never serialises it. Styled through the CSSOM (no inline <style>), so a strict
// style-src on the host page does not break it.

import { CbStrings, cbStrings } from "./i18n";

interface Actions {
  stop(): void;
  grant(granted: boolean): void;
}

const Z = "2147483001";

function el(tag: string, css: string, text = ""): HTMLElement {
  const e = document.createElement(tag);
  e.setAttribute("data-tresen-cb", "");
  e.style.cssText = css;
  if (text) e.textContent = text;
  return e;
}

const BTN =
  "margin-left:10px;padding:4px 12px;border-radius:4px;border:1px solid #fff;background:#fff;" +
  "color:#8a1c1c;font:600 14px system-ui,sans-serif;cursor:pointer;";

export class Ui {
  private bar: HTMLElement | null = null;
  private label: HTMLElement | null = null;
  private agent: string | null = null;
  private dialog: HTMLElement | null = null;
  private stopButton: HTMLElement | null = null;
  private control = false;
  t: CbStrings = cbStrings("en");

  constructor(private actions: Actions) {}

  /** The widget's language (from the frame): texts shown from now on, and the banner at once. */
  setLang(lang: string | undefined): void {
    if (!lang) return;
    this.t = cbStrings(lang);
    if (this.stopButton) this.stopButton.textContent = this.t.stop;
    this.setControl(this.control);
  }

  banner(agent: string | null, control: boolean): void {
    this.agent = agent || this.agent;
    if (!this.bar) {
      this.bar = el(
        "div",
        `position:fixed;top:0;left:0;right:0;z-index:${Z};background:#8a1c1c;color:#fff;` +
          "font:14px system-ui,sans-serif;padding:6px 12px;display:flex;align-items:center;" +
          "justify-content:center;box-shadow:0 2px 6px rgba(0,0,0,.3);",
      );
      this.bar.setAttribute("role", "status");
      this.bar.setAttribute("data-testid", "cobrowse-banner");
      this.label = el("span", "");
      const stop = (this.stopButton = el("button", BTN, this.t.stop));
      stop.setAttribute("data-testid", "cobrowse-stop");
      stop.addEventListener("click", () => this.actions.stop());
      this.bar.append(this.label, stop);
      document.body.appendChild(this.bar);
    }
    this.setControl(control);
  }

  setControl(control: boolean): void {
    this.control = control;
    if (!this.label) return;
    const who = this.agent || this.t.theAgent;
    this.label.textContent = control ? this.t.bannerControl(who) : this.t.banner(who);
  }

  clear(): void {
    this.bar?.remove();
    this.dialog?.remove();
    this.bar = this.label = this.dialog = this.stopButton = null;
  }

  highlight(target: Element, who: string | null): void {
    const r = target.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) target.scrollIntoView({ block: "center" });
    const box = target.getBoundingClientRect();
    const ring = el(
      "div",
      `position:fixed;z-index:${Z};pointer-events:none;border:3px solid #e8590c;border-radius:6px;` +
        `box-shadow:0 0 0 4px rgba(232,89,12,.25);left:${box.left - 5}px;top:${box.top - 5}px;` +
        `width:${box.width + 4}px;height:${box.height + 4}px;transition:opacity .4s;`,
    );
    ring.setAttribute("data-testid", "cobrowse-pointer");
    ring.title = who || "";
    document.body.appendChild(ring);
    window.setTimeout(() => (ring.style.opacity = "0"), 2500);
    window.setTimeout(() => ring.remove(), 3000);
  }

  dot(x: number, y: number): void {
    const d = el(
      "div",
      `position:absolute;z-index:${Z};pointer-events:none;width:18px;height:18px;border-radius:50%;` +
        `background:rgba(232,89,12,.8);left:${x - 9}px;top:${y - 9}px;`,
    );
    d.setAttribute("data-testid", "cobrowse-pointer");
    document.body.appendChild(d);
    window.setTimeout(() => d.remove(), 2500);
  }

  private ask(text: string, yes: string, no: string, answer: (ok: boolean) => void): void {
    this.dialog?.remove();
    const box = el(
      "div",
      `position:fixed;top:48px;left:50%;transform:translateX(-50%);z-index:${Z};background:#fff;` +
        "color:#222;border:1px solid #bbb;border-radius:8px;padding:14px 16px;max-width:440px;" +
        "font:14px system-ui,sans-serif;box-shadow:0 6px 24px rgba(0,0,0,.25);",
    );
    box.setAttribute("role", "dialog");
    box.setAttribute("data-testid", "cobrowse-dialog");
    const p = el("p", "margin:0 0 10px;word-break:break-word;", text);
    const ok = el("button", BTN + "background:#1c5d8a;color:#fff;border-color:#1c5d8a;", yes);
    const cancel = el("button", BTN + "color:#333;border-color:#999;", no);
    ok.setAttribute("data-testid", "cobrowse-yes");
    cancel.setAttribute("data-testid", "cobrowse-no");
    const done = (v: boolean) => {
      box.remove();
      if (this.dialog === box) this.dialog = null;
      answer(v);
    };
    ok.addEventListener("click", () => done(true));
    cancel.addEventListener("click", () => done(false));
    box.append(p, ok, cancel);
    document.body.appendChild(box);
    this.dialog = box;
  }

  confirmPage(url: string, who: string | null, open: () => void): void {
    const t = this.t;
    this.ask(t.suggestPage(who || t.theAgent, url), t.openPage, t.stayHere, (ok) => ok && open());
  }

  askControl(who: string | null): void {
    const t = this.t;
    this.ask(t.askControl(who || t.theAgent), t.allowControl, t.no, (ok) => this.actions.grant(ok));
  }
}
