// What the loader reports about the host page (page, form focus, custom events) and the
// visitor's answers to offers, sent on the visitor's socket. Page and form are state: the latest
// is sent again after every reconnect. Events and answers are kept while offline (a few).
import type { PageInfo } from "../shared/bridge";
import { safeProps } from "../shared/bridge";

const MAX_EVENTS = 20;

type Frame = Record<string, unknown>;

export class Tracking {
  private page: Frame | null = null;
  private form: string | null = null;
  private events: Frame[] = [];
  private controls: Frame[] = [];
  private view = "";

  /** `send` returns false when the socket is down. */
  constructor(private send: (frame: Frame) => boolean) {}

  pageView(p: PageInfo): void {
    const url = String(p.url || "").slice(0, 2048);
    // A page load has a view id: the same page reported again (a reconnect, a resize) is not
    // a new page view; a navigation (also in a single-page app) is.
    if (!this.page || this.page.url !== url) this.view = Math.random().toString(36).slice(2, 14);
    const utm: Record<string, string> = {};
    for (const [k, v] of Object.entries(p.utm || {}).slice(0, 5)) utm[k] = String(v).slice(0, 200);
    this.page = {
      type: "track",
      kind: "page",
      url,
      title: String(p.title || "").slice(0, 500),
      referrer: String(p.referrer || "").slice(0, 2048),
      language: String(p.language || "").slice(0, 35) || null,
      utm,
      view: this.view,
      focused: p.focused !== false,
    };
    if (p.device === "desktop" || p.device === "mobile" || p.device === "tablet") this.page.device = p.device;
    this.send(this.page);
  }

  /** The tab gained or lost the focus. */
  focus(focused: boolean): void {
    if (this.page) this.page.focused = focused;
    this.send({ type: "track", kind: "focus", focused });
  }

  formFocus(form: string | null): void {
    this.form = form === null ? null : String(form).slice(0, 200);
    this.send({ type: "track", kind: "form", form: this.form });
  }

  event(name: string, props: unknown): void {
    const frame = { type: "track", kind: "event", name: String(name).slice(0, 100), props: safeProps(props) };
    if (!this.send(frame) && this.events.push(frame) > MAX_EVENTS) this.events.shift();
  }

  /** An answer (offer_reply, queue_choice, handover): sent now, or after reconnecting. */
  control(frame: Frame): void {
    if (!this.send(frame)) this.controls.push(frame);
  }

  /** Connected (again): the current page and form, then what waited. */
  flush(): void {
    if (this.page) this.send(this.page);
    if (this.form) this.send({ type: "track", kind: "form", form: this.form });
    for (const f of this.events.splice(0)) this.send(f);
    for (const f of this.controls.splice(0)) this.send(f);
  }
}
