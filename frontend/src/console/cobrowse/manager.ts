// The console's side of co-browsing: sessions per conversation, the live mirror (rrweb's
// Replayer in live mode), and the agent's tools. Events go straight into the replayer without
// re-rendering the console.
import { Replayer } from "rrweb";
import { api } from "../api";
import { t } from "../i18n";
import type { AgentFrame, CobrowseCommand, CobrowseEventsFrame, ServerFrame } from "../../shared/protocol";

export interface CbSession {
  session_id: number;
  conversation_id: number;
  status: "requested" | "active" | "declined" | "ended";
  control: boolean;
  auto_follow: boolean;
  url: string;
  notice: string;
  /** The visitor's page at this URL is not shown (its snapshot was not relayed or is too
   * large): the mirror is hidden rather than showing the previous page under the new URL. */
  unshown?: string | null;
}

interface Sender {
  sendFrame(frame: AgentFrame): boolean;
  changed(): void;
}

type RrEvent = { type: number; timestamp: number; data?: { tag?: string; payload?: { bytes?: number; limit?: number } } };

const META = 4;
const FULL = 2;
const CUSTOM = 5;

export class Cobrowse {
  sessions = new Map<number, CbSession>(); // by conversation
  private replayer: Replayer | null = null;
  private mounted: { session: number; root: HTMLElement } | null = null;
  private started = false;
  private pendingMeta: RrEvent[] = [];
  /** The mirror's page was not shown: increments wait for the next full snapshot. */
  private blocked = false;
  /** For tests and the bench: when each batch was applied (session, first event timestamp). */
  onApplied: ((events: RrEvent[]) => void) | null = null;

  constructor(private store: Sender) {}

  /** The session's latest state (by session id), for handlers that outlive a render. */
  current(sessionId: number): CbSession | undefined {
    return [...this.sessions.values()].find((x) => x.session_id === sessionId);
  }

  forConv(conv: number): CbSession | undefined {
    return this.sessions.get(conv);
  }

  async load(conv: number): Promise<void> {
    const rows = await api<CbSession[]>("GET", `/api/cobrowse/sessions?conversation_id=${conv}`);
    for (const r of rows) this.upsert({ ...r, url: "", notice: "" });
    this.store.changed();
  }

  request(conv: number): void {
    this.store.sendFrame({ type: "cobrowse_request", conversation_id: conv });
  }

  stop(s: CbSession): void {
    this.store.sendFrame({ type: "cobrowse_stop", session_id: s.session_id });
  }

  command(s: CbSession, action: string, extra: CobrowseCommand = {}): boolean {
    return this.store.sendFrame({ type: "cobrowse_command", session_id: s.session_id, action, ...extra });
  }

  watch(sessionId: number): void {
    this.store.sendFrame({ type: "cobrowse_watch", session_id: sessionId });
  }

  async joinByCode(code: string): Promise<{ session_id: number; conversation_id: number }> {
    return api("POST", "/api/cobrowse/join-by-code", { code });
  }

  private upsert(s: CbSession): CbSession {
    const prev = [...this.sessions.values()].find((x) => x.conversation_id === s.conversation_id);
    if (prev && prev.session_id > s.session_id) return prev; // an older session's news
    const next = { ...(prev && prev.session_id === s.session_id ? prev : {}), ...s };
    this.sessions.set(s.conversation_id, next);
    return next;
  }

  /** Every frame of the agent socket (before the store handles it). */
  onFrame(f: ServerFrame): void {
    if (f.type === "welcome") {
      // Reconnected: watch again what we were watching (a fresh snapshot comes with it).
      for (const s of this.sessions.values()) if (s.status === "active" && this.mounted?.session === s.session_id) this.watch(s.session_id);
    } else if (f.type === "cobrowse") {
      const s = this.upsert({
        session_id: f.session_id,
        conversation_id: f.conversation_id,
        status: f.status,
        control: Boolean(f.control),
        auto_follow: Boolean(f.auto_follow),
        url: "",
        notice: f.status === "declined" ? t("cob.declined") : f.status === "ended" ? t("cob.ended") : "",
      });
      if (s.status !== "active" && this.mounted?.session === s.session_id) this.unmountReplayer();
    } else if (f.type === "cobrowse_notice") {
      const s = [...this.sessions.values()].find((x) => x.session_id === f.session_id);
      if (s && f.code === "dropped") s.notice = t("cob.dropped");
      if (s && f.code === "dropped" && (f.snapshot || (f.url && f.url !== s.url))) {
        // A new page (or a new snapshot) was not relayed: never the previous page under it.
        if (f.url) s.url = f.url;
        this.hide(s, t("cob.hidden"));
      }
      if (s && f.code === "refused") s.notice = t("cob.refused");
      if (s && (f.code === "dropped" || f.code === "refused")) this.store.changed();
    }
  }

  /** A batch of the visitor's events: straight into the live replayer. */
  onEvents(f: CobrowseEventsFrame): void {
    const s = [...this.sessions.values()].find((x) => x.session_id === f.session_id);
    if (s && f.url && s.url !== f.url) {
      s.url = f.url;
      this.store.changed();
    }
    const full = Array.isArray(f.events) && (f.events as RrEvent[]).some((ev) => ev.type === FULL);
    if (s && s.unshown && full) {
      s.unshown = null; // a page is shown again
      this.store.changed();
    }
    if (!this.mounted || this.mounted.session !== f.session_id || !Array.isArray(f.events)) return;
    for (const ev of f.events as RrEvent[]) this.apply(ev, s);
    if (this.onApplied) this.onApplied(f.events as RrEvent[]);
  }

  private apply(ev: RrEvent, s: CbSession | undefined): void {
    if (ev.type === CUSTOM && ev.data?.tag === "tresen_too_large") {
      const kb = (n?: number) => Math.round((n || 0) / 1024);
      if (s) s.notice = t("cob.tooLarge", { kb: kb(ev.data.payload?.bytes), limit: kb(ev.data.payload?.limit) });
      if (s) this.hide(s, t("cob.tooLargeShort"));
      this.store.changed();
      return;
    }
    if (this.blocked) {
      // The shown page is not the visitor's: only a new full snapshot may replace it.
      if (ev.type === META) this.pendingMeta = [ev];
      if (ev.type !== FULL) return;
      this.blocked = false;
      for (const m of this.pendingMeta.splice(0)) this.replayer!.addEvent(m as never);
    }
    if (!this.started) {
      // Wait for a full snapshot (with its meta event): increments before it cannot apply.
      if (ev.type === META) this.pendingMeta = [ev];
      if (ev.type !== FULL) return;
      this.replayer!.startLive(ev.timestamp - 50);
      this.started = true;
      for (const m of this.pendingMeta.splice(0)) this.replayer!.addEvent(m as never);
      if (s && s.notice.startsWith(t("cob.tooLarge").split("{")[0])) s.notice = "";
    }
    this.replayer!.addEvent(ev as never);
  }

  /** The visitor's current page cannot be shown: hide the mirror (a "page not shown" state
   * for ``s.url``) until the next full snapshot. */
  private hide(s: CbSession, why: string): void {
    s.unshown = why;
    if (this.mounted?.session === s.session_id && this.started) this.blocked = true;
    this.store.changed();
  }

  /** Show the mirror of a session in ``root`` and ask the visitor's page for a full snapshot. */
  mount(session: number, root: HTMLElement): Replayer {
    if (this.mounted?.session === session && this.mounted.root === root && this.replayer) return this.replayer;
    this.unmountReplayer();
    root.innerHTML = "";
    this.replayer = new Replayer([], {
      root,
      liveMode: true,
      mouseTail: false,
      triggerFocus: false,
      UNSAFE_replayCanvas: false,
      showWarning: false,
    } as never);
    this.replayer.on("resize", (dim: unknown) => this.fit(root, dim as { width: number; height: number }));
    this.mounted = { session, root };
    this.started = false;
    this.blocked = false;
    this.watch(session);
    return this.replayer;
  }

  private fit(root: HTMLElement, dim: { width: number; height: number }): void {
    const wrapper = root.querySelector<HTMLElement>(".replayer-wrapper");
    if (!wrapper || !dim.width) return;
    const scale = Math.min(1, root.clientWidth / dim.width);
    wrapper.style.transform = `scale(${scale})`;
    wrapper.style.transformOrigin = "0 0";
    root.style.height = `${Math.ceil(dim.height * scale)}px`;
  }

  get mirror(): Replayer | null {
    return this.replayer;
  }

  unmountReplayer(): void {
    if (this.replayer) {
      try {
        this.replayer.destroy();
      } catch {
        /* already gone */
      }
    }
    this.replayer = null;
    this.mounted = null;
    this.started = false;
    this.blocked = false;
  }
}
