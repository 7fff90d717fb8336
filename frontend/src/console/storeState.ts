// Console state: the fields every part of the store reads, the agent socket, change
// notifications and the store's timers. The conversations and tabs are storeConversations.ts's,
// sending and the incoming frames store.ts's (the Store components use).
import { Outbox, Positions } from "../shared/client";
import type { Link } from "../shared/link";
import type { AgentFrame, Attachment, ServerFrame } from "../shared/protocol";
import { Cobrowse } from "./cobrowse/manager";
import { Deliveries } from "./deliveries";
import { LiveVisitors } from "./liveVisitors";
import { Callbacks } from "./callbackList";
import { InboxViews } from "./inboxViews";
import { agentLink, type SocketState } from "./socket";
import type { Agent, Conv, Msg, RadarVisitor, VisitorCtx } from "./types";

const RESEND_TICK_MS = 2000;

export abstract class StoreState {
  me: Agent;
  convs = new Map<number, Conv>();
  messages = new Map<number, Map<number, Msg>>();
  hasOlder = new Map<number, boolean>();
  /** Sends not yet acknowledged, by client_msg_id. */
  outbox = new Outbox();
  /** Agents see every seq: a position only moves over a gap-free run. */
  positions = new Positions(true);
  tabs: number[] = [];
  active: number | null = null;
  drafts = new Map<number, string>();
  noteMode = new Map<number, boolean>();
  /** Files uploaded for the next reply, per conversation (docs/attachments.md). */
  files = new Map<number, Attachment[]>();
  typing = new Map<number, { name: string; until: number }>();
  visitors = new Map<number, VisitorCtx>();
  /** Visitors on the site now: live only while a view that lists them is shown. */
  radar: LiveVisitors;
  /** Bumped on every conversation change: views that poll (supervisor) refresh on it. */
  convEvents = 0;
  conn: SocketState = "connecting";
  /** Co-browsing sessions and the live mirror (console/cobrowse). */
  cobrowse: Cobrowse = new Cobrowse(this);
  /** Channel deliveries (email) of agents' messages. */
  deliveries = new Deliveries(() => this.changed());
  notice = "";
  /** Inbox views, counts, search, selection (inboxViews.ts); callbacks (callbacks.ts). */
  views: InboxViews;
  callbacks: Callbacks;
  protected lastUsed = new Map<number, number>();
  protected readSent = new Map<number, number>();
  protected typingSent = new Map<number, number>();
  private listeners = new Set<() => void>();
  protected socket: Link;
  private timers: number[] = [];
  private scheduled = false;

  constructor(me: Agent, private onAuthLost: () => void) {
    this.me = me;
    this.socket = agentLink({
      frame: (f) => this.onFrame(f),
      state: (s) => {
        this.conn = s;
        this.changed();
      },
      down: () => {
        this.outbox.disconnected();
        this.positions.disconnected();
      },
      authLost: () => this.onAuthLost(),
    });
    this.views = new InboxViews(() => this.changed(), () => this.me.id);
    this.callbacks = new Callbacks(
      () => this.changed(),
      (text) => this.flash(text),
      (id) => void this.open(id),
    );
    this.radar = new LiveVisitors({
      send: (f) => this.socket.send(f),
      changed: () => this.changed(),
      updated: (before, now) => this.showPageView(before, now),
    });
  }

  // ---- plumbing -------------------------------------------------------------------------------

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.listeners.forEach((fn) => fn());
    });
  }

  async start(): Promise<void> {
    await this.loadInbox();
    void this.views.refreshCounts();
    this.socket.start();
    this.timers.push(
      window.setInterval(() => this.flushOutbox(), RESEND_TICK_MS),
      window.setInterval(() => this.expireTyping(), 1000),
    );
    (window as any).__tresenConsole = this; // for diagnostics and tests
  }

  stop(): void {
    this.socket.stop();
    this.timers.forEach((t) => window.clearInterval(t));
    this.timers = [];
  }

  reconnect(): void {
    this.socket.reconnectNow();
  }

  flash(text: string): void {
    this.notice = text;
    this.changed();
    window.setTimeout(() => {
      if (this.notice === text) {
        this.notice = "";
        this.changed();
      }
    }, 6000);
  }

  /** Send any frame now (co-browsing); false when the socket is down. */
  sendFrame(frame: AgentFrame): boolean {
    return this.socket.send(frame);
  }

  // ---- what the other parts of the store do (storeConversations.ts, store.ts) ---------------

  abstract loadInbox(): Promise<void>;
  abstract open(id: number): Promise<void>;
  protected abstract showPageView(before: RadarVisitor | undefined, now: RadarVisitor, ctx?: VisitorCtx): void;
  protected abstract flushOutbox(): void;
  protected abstract expireTyping(): void;
  protected abstract onFrame(f: ServerFrame): void;
}
