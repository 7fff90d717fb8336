// Console state and the real-time protocol: conversations, tabs (and the watches that follow
// them), unread counts, typing, read receipts. Unacked sends and positions are the shared
// client's (shared/client.ts). Components read it and call its methods.
import { Outbox, Positions } from "../shared/client";
import type { Link } from "../shared/link";
import { type AgentFrame, type Attachment, type ErrorFrame, type ServerFrame, isOptionalFrameRefusal } from "../shared/protocol";
import { api } from "./api";
import { Cobrowse } from "./cobrowse/manager";
import { Deliveries } from "./deliveries";
import { LiveVisitors } from "./liveVisitors";
import { Callbacks } from "./callbackList";
import { InboxViews } from "./inboxViews";
import { beep, desktopNotify } from "./notify";
import { agentLink, type SocketState } from "./socket";
import type { Agent, Conv, Msg, Pending, RadarVisitor, VisitorCtx } from "./types";
import { visitorName } from "./types";
import { errorText } from "./errors";
import { t } from "./i18n";

export const MAX_TABS = 5;
const PAGE = 50;
const TYPING_SHOWN_MS = 6000;
const RESEND_TICK_MS = 2000;

type Frame<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;

export class Store {
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
  private lastUsed = new Map<number, number>();
  private readSent = new Map<number, number>();
  private typingSent = new Map<number, number>();
  private listeners = new Set<() => void>();
  private socket: Link;
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

  // ---- conversations --------------------------------------------------------------------------

  async loadInbox(): Promise<void> {
    const rows = await api<Conv[]>("GET", "/api/console/inbox");
    for (const c of rows) {
      this.convs.set(c.id, { ...this.convs.get(c.id), ...c });
      this.positions.known(c.id, c.last_seq);
    }
    this.changed();
  }

  inbox(): Conv[] {
    return [...this.convs.values()]
      .filter((c) => c.status !== "resolved")
      .sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : b.id - a.id));
  }

  totalUnread(): number {
    let n = 0;
    this.convs.forEach((c) => c.status !== "resolved" && (n += c.unread || 0));
    return n;
  }

  async ensureConv(id: number): Promise<Conv | undefined> {
    if (!this.convs.has(id)) {
      const c = await api<Conv>("GET", `/api/conversations/${id}`);
      this.convs.set(id, { ...c, unread: 0 });
      this.positions.known(id, c.last_seq);
    }
    const conv = this.convs.get(id);
    if (conv && !conv.visitor) void this.loadVisitor(conv.visitor_id);
    return conv;
  }

  async loadVisitor(visitorId: number): Promise<VisitorCtx | undefined> {
    try {
      const v = await api<VisitorCtx>("GET", `/api/visitors/${visitorId}`);
      // Page views are stored in batches: the page they are on now may not be listed yet.
      if (v.live?.url && v.pages[0]?.url !== v.live.url) this.showPageView(undefined, v.live, v);
      this.visitors.set(visitorId, v);
      this.convs.forEach((c) => {
        if (c.visitor_id === visitorId) {
          c.visitor = { id: v.id, name: v.name, email: v.email, external_id: v.external_id };
        }
      });
      this.changed();
      return v;
    } catch {
      return undefined;
    }
  }

  async open(id: number): Promise<void> {
    const opened = !this.tabs.includes(id);
    if (opened) {
      if (this.tabs.length >= MAX_TABS) {
        const victim = this.tabs
          .filter((t) => t !== this.active)
          .sort((a, b) => (this.lastUsed.get(a) ?? 0) - (this.lastUsed.get(b) ?? 0))[0];
        this.tabs = this.tabs.filter((t) => t !== victim);
        this.unwatch(victim);
      }
      this.tabs = [...this.tabs, id];
    }
    this.activate(id);
    await this.ensureConv(id);
    // Watch before reading the history: what is stored after our position comes on the socket,
    // so nothing falls between the HTTP page and the live frames.
    if (opened && this.tabs.includes(id)) this.watch(id);
    if (!this.hasOlder.has(id)) await this.loadOlder(id, true);
    const conv = this.convs.get(id);
    if (conv) void this.deliveries.load(id, conv.channel);
    this.markRead();
  }

  /** Follow a conversation on this socket (it may be outside what reaches us unasked: assigned
   * to someone else, or with the bot). The server first sends what came after our position. */
  private watch(id: number): void {
    const seq = this.positions.get(id);
    this.socket.send(seq === undefined ? { type: "watch", conversation_id: id } : { type: "watch", conversation_id: id, seq });
  }

  private unwatch(id: number | undefined): void {
    if (id !== undefined) this.socket.send({ type: "unwatch", conversation_id: id });
  }

  activate(id: number | null): void {
    this.active = id;
    if (id !== null) {
      this.lastUsed.set(id, Date.now());
      const conv = this.convs.get(id);
      if (conv) void this.loadVisitor(conv.visitor_id);
    }
    this.markRead();
    this.changed();
  }

  closeTab(id: number): void {
    const i = this.tabs.indexOf(id);
    if (i < 0) return;
    this.tabs = this.tabs.filter((t) => t !== id);
    this.unwatch(id);
    if (this.active === id) this.activate(this.tabs[Math.min(i, this.tabs.length - 1)] ?? null);
    this.changed();
  }

  switchBy(delta: number): void {
    if (!this.tabs.length) return;
    const i = this.active === null ? -1 : this.tabs.indexOf(this.active);
    const next = (i + delta + this.tabs.length) % this.tabs.length;
    this.activate(this.tabs[next]);
  }

  async loadOlder(id: number, first = false): Promise<void> {
    const have = this.messages.get(id);
    const seqs = have ? [...have.keys()] : [];
    const oldest = seqs.length && !first ? Math.min(...seqs) : null;
    const qs = oldest ? `?before_seq=${oldest}&limit=${PAGE}` : `?limit=${PAGE}`;
    const page = await api<Msg[]>("GET", `/api/conversations/${id}/messages${qs}`);
    for (const m of page) this.putMessage(m);
    // The newest page holds everything up to its last seq (older pages load on demand).
    if (first && page.length) this.positions.known(id, page[page.length - 1].seq);
    this.hasOlder.set(id, page.length === PAGE && (page[0]?.seq ?? 1) > 1);
    this.changed();
  }

  messagesOf(id: number): Msg[] {
    const map = this.messages.get(id);
    return map ? [...map.values()].sort((a, b) => a.seq - b.seq) : [];
  }

  pendingOf(id: number): Pending[] {
    return this.outbox.all().filter((p) => p.conversation_id === id);
  }

  private putMessage(m: Msg): void {
    let map = this.messages.get(m.conversation_id);
    if (!map) this.messages.set(m.conversation_id, (map = new Map()));
    map.set(m.seq, m);
    this.received(m.conversation_id, m.seq);
  }

  async setStatus(id: number, status: string): Promise<void> {
    const c = await api<Conv>("PATCH", `/api/conversations/${id}`, { status });
    this.mergeConv(c);
    void this.refreshVisitor(id);
  }

  /** Email the customer a link into a live chat on this conversation, opening on the page they
   * were last seen on (else the site's first origin). The link arrives as my message. */
  async inviteToChat(id: number): Promise<void> {
    const conv = this.convs.get(id);
    const page = conv ? this.visitors.get(conv.visitor_id)?.current_page : null;
    try {
      await api("POST", `/api/conversations/${id}/chat-invite`, page ? { page } : {});
    } catch (e: any) {
      this.notice = errorText(e);
      this.changed();
    }
  }

  /** The chat's transcript by email (``email`` "" = the customer's known address). */
  async mailTranscript(id: number, email: string): Promise<boolean> {
    try {
      await api("POST", `/api/conversations/${id}/transcript-mail`, email ? { email } : {});
      return true;
    } catch (e: any) {
      this.notice = e.message;
      this.changed();
      return false;
    }
  }

  async assignToMe(id: number): Promise<void> {
    this.mergeConv(await api<Conv>("PATCH", `/api/conversations/${id}`, { assignee_id: this.me.id }));
  }

  private mergeConv(c: Conv): void {
    const old = this.convs.get(c.id);
    this.convs.set(c.id, {
      ...c,
      visitor: old?.visitor,
      last_message: old?.last_message,
      unread: old?.unread ?? 0,
      tags: c.tags ?? old?.tags ?? [],
    });
    this.views.stale();
    this.changed();
  }

  /** A conversation snoozed or woken by this console (the frame follows for the others). */
  mergeSnooze(c: Conv): void {
    this.mergeConv(c);
  }

  setTags(id: number, tags: string[]): void {
    const conv = this.convs.get(id);
    if (conv) conv.tags = tags;
    this.views.stale();
    this.changed();
  }

  private refreshVisitor(convId: number): Promise<unknown> {
    const conv = this.convs.get(convId);
    return conv ? this.loadVisitor(conv.visitor_id) : Promise.resolve();
  }

  // ---- routing ------------------------------------------------------------------------------

  async accept(id: number): Promise<void> {
    this.mergeConv(await api<Conv>("POST", `/api/conversations/${id}/accept`));
  }

  async decline(id: number): Promise<void> {
    this.mergeConv(await api<Conv>("POST", `/api/conversations/${id}/decline`));
    if (this.convs.get(id)?.assignee_id !== this.me.id) this.closeTab(id);
  }

  async transfer(id: number, target: { agent_id?: number; skill?: string }, note: string): Promise<void> {
    this.mergeConv(await api<Conv>("POST", `/api/conversations/${id}/transfer`, { ...target, note }));
  }

  async reassign(id: number, agentId: number): Promise<void> {
    this.mergeConv(await api<Conv>("PATCH", `/api/conversations/${id}`, { assignee_id: agentId }));
  }

  // ---- radar ----------------------------------------------------------------------------------

  async invite(visitorId: number, text: string): Promise<void> {
    await api("POST", `/api/radar/visitors/${visitorId}/invite`, { text });
    this.radar.markInvited(visitorId);
    this.changed();
  }

  /** A new page view of a visitor whose context is loaded: shown at once (the stored history
   * is written in batches). */
  private showPageView(before: RadarVisitor | undefined, now: RadarVisitor, ctx = this.visitors.get(now.id)): void {
    if (ctx && now.url && (now.pages_viewed ?? 0) > (before?.pages_viewed ?? 0)) {
      const at = new Date((now.page_started_at || Date.now() / 1000) * 1000).toISOString();
      ctx.pages = [{ url: now.url, title: now.title, at }, ...ctx.pages].slice(0, 20);
      ctx.current_page = now.url;
    }
  }

  // ---- sending --------------------------------------------------------------------------------

  send(convId: number, body: string, internal: boolean, attachments?: Attachment[]): void {
    this.outbox.add(body, convId, internal, undefined, attachments);
    this.flushOutbox();
    this.sendTyping(convId, false);
    this.changed();
  }

  retry(cmid: string): void {
    this.outbox.retry(cmid);
    this.flushOutbox();
    this.changed();
  }

  discard(cmid: string): void {
    this.outbox.settle(cmid);
    this.changed();
  }

  /** What is unacked and not in flight (or overdue) goes out with the same client_msg_id: the
   * server dedupes. Only on a welcomed socket: before that, the frame would be lost. */
  private flushOutbox(): void {
    if (this.conn !== "online" || !this.socket.open) return;
    for (const p of this.outbox.due(Date.now())) {
      this.socket.send({
        type: "send",
        client_msg_id: p.client_msg_id,
        body: p.body,
        conversation_id: p.conversation_id!,
        internal: p.internal,
        ...(p.attachments ? { attachments: p.attachments.map((a) => a.key) } : {}),
      });
    }
  }

  sendTyping(convId: number, isTyping: boolean): void {
    const last = this.typingSent.get(convId) ?? 0;
    if (isTyping && Date.now() - last < 3000) return;
    if (!isTyping && !last) return;
    this.typingSent.set(convId, isTyping ? Date.now() : 0);
    this.socket.send({ type: "typing", conversation_id: convId, is_typing: isTyping });
  }

  markRead(): void {
    const id = this.active;
    if (id === null || document.hidden) return;
    const conv = this.convs.get(id);
    if (!conv) return;
    const shown = this.messagesOf(id);
    const newest = shown.length ? shown[shown.length - 1].seq : 0;
    const seq = Math.max(this.positions.get(id) ?? 0, newest) || conv.last_seq;
    if (conv.unread) {
      conv.unread = 0;
      this.changed();
    }
    if (seq > 0 && seq > conv.agent_read_seq && seq > (this.readSent.get(id) ?? 0)) {
      if (this.socket.send({ type: "read", conversation_id: id, seq })) this.readSent.set(id, seq);
    }
  }

  // ---- incoming frames ------------------------------------------------------------------------

  /** Send any frame now (co-browsing); false when the socket is down. */
  sendFrame(frame: AgentFrame): boolean {
    return this.socket.send(frame);
  }

  private onFrame(f: ServerFrame): void {
    if (f.type === "cobrowse_events") return this.cobrowse.onEvents(f); // no re-render per batch
    this.cobrowse.onFrame(f);
    switch (f.type) {
      case "welcome":
        this.onWelcome();
        break;
      case "message":
        this.onMessage({ ...f, internal: Boolean(f.internal), client_msg_id: f.client_msg_id ?? null });
        break;
      case "ack":
        this.onAck(f);
        break;
      case "conversation":
        this.onConversation(f.conversation as unknown as Conv);
        break;
      case "resumed":
        // The server vouches: up to there we have everything (it filled any gap).
        this.positions.resumed(f.conversations);
        break;
      case "typing":
        this.onTyping(f);
        break;
      case "read":
        this.onRead(f);
        break;
      case "delivery":
        this.deliveries.onFrame(f);
        break;
      case "radar":
        this.radar.onFrame(f);
        break;
      case "tags":
        this.setTags(f.conversation_id, f.tags);
        break;
      case "callback":
        this.callbacks.onFrame(f.callback, f.due);
        break;
      case "error":
        this.onError(f);
        break;
    }
    this.changed();
  }

  /** Conversations whose messages reach this console unasked (targeted delivery): assigned or
   * offered to me, and the unassigned ones without the bot (the queue). Others need a watch. */
  private reachesMe(c: Conv): boolean {
    if (c.assignee_id === this.me.id || c.offered_to === this.me.id) return true;
    return c.assignee_id == null && c.status !== "resolved" && !c.meta?.bot;
  }

  /** A new socket: catch up (resume; the open tabs first), follow the open tabs again (watches
   * live on the socket), resend what is unacked, subscribe again to live views. */
  private onWelcome(): void {
    const mine = this.inbox().filter((c) => this.reachesMe(c)).map((c) => c.id);
    this.socket.send({ type: "resume", conversations: this.positions.resume([...this.tabs, ...mine]) });
    for (const id of this.tabs) this.watch(id);
    this.readSent.clear();
    this.flushOutbox();
    this.markRead();
    this.radar.onWelcome();
  }

  private onMessage(m: Msg): void {
    const conv = this.convs.get(m.conversation_id);
    const known = this.messages.get(m.conversation_id)?.has(m.seq);
    if (m.client_msg_id) this.outbox.settle(m.client_msg_id);
    this.putMessage(m);
    if (!conv) {
      void this.ensureConv(m.conversation_id).then(() => this.changed());
      return;
    }
    conv.last_seq = Math.max(conv.last_seq, m.seq);
    conv.updated_at = m.created_at;
    conv.last_message = {
      seq: m.seq,
      body: m.body.slice(0, 140),
      author_kind: m.author.kind,
      internal: m.internal,
      created_at: m.created_at,
    };
    if (m.author.kind !== "visitor" || known) return;
    this.typing.delete(m.conversation_id);
    const viewing = this.active === m.conversation_id && !document.hidden;
    if (viewing) this.markRead();
    else conv.unread = (conv.unread || 0) + 1;
    if (!viewing || !document.hasFocus()) this.attention(conv, m);
  }

  private attention(conv: Conv, m: Msg): void {
    beep();
    desktopNotify(visitorName(conv.visitor, conv.visitor_id), m.body, `conv-${conv.id}`, () =>
      void this.open(conv.id),
    );
  }

  /** A seq arrived; after a gap below it, resume from the last gap-free seq (once per gap). */
  private received(conv: number, seq: number): void {
    if (!this.positions.received(conv, seq)) return;
    const resume = this.positions.gap(conv);
    if (resume && !this.socket.send(resume)) this.positions.disconnected();
  }

  private onAck(f: Frame<"ack">): void {
    const p = this.outbox.settle(f.client_msg_id);
    this.received(f.conversation_id, f.seq);
    if (!p) return;
    if (!this.messages.get(f.conversation_id)?.has(f.seq)) {
      this.putMessage({
        conversation_id: f.conversation_id,
        seq: f.seq,
        id: f.id,
        author: { kind: "agent", id: this.me.id, name: this.me.display_name },
        body: p.body,
        internal: p.internal,
        client_msg_id: p.client_msg_id,
        created_at: new Date().toISOString(),
      });
    }
  }

  private onConversation(c: Conv): void {
    const isNew = !this.convs.has(c.id);
    const wasOffered = this.convs.get(c.id)?.offered_to === this.me.id;
    this.convEvents++;
    this.mergeConv(c);
    if (c.offered_to === this.me.id && !wasOffered) {
      beep();
      desktopNotify(t("route.offeredTitle"), t("inbox.convN", { id: c.id }), `offer-${c.id}`, () => void this.open(c.id));
    }
    // Unknown so far: from its start, so a resume brings its first messages if we missed them.
    if (!this.positions.has(c.id)) this.positions.known(c.id, 0);
    if (isNew) void this.loadVisitor(c.visitor_id);
    else if (this.visitors.has(c.visitor_id)) void this.loadVisitor(c.visitor_id);
  }

  private onTyping(f: Frame<"typing">): void {
    if (f.author.kind === "agent" && f.author.id === this.me.id) return;
    if (f.is_typing) {
      const name = f.author.kind === "visitor" ? "Visitor" : f.author.name || "Someone";
      this.typing.set(f.conversation_id, { name, until: Date.now() + TYPING_SHOWN_MS });
    } else {
      this.typing.delete(f.conversation_id);
    }
  }

  private expireTyping(): void {
    const now = Date.now();
    let gone = false;
    this.typing.forEach((t, id) => {
      if (t.until < now) {
        this.typing.delete(id);
        gone = true;
      }
    });
    if (gone) this.changed();
  }

  private onRead(f: Frame<"read">): void {
    const conv = this.convs.get(f.conversation_id);
    if (!conv) return;
    if (f.reader === "visitor") conv.visitor_read_seq = Math.max(conv.visitor_read_seq, f.seq);
    else {
      conv.agent_read_seq = Math.max(conv.agent_read_seq, f.seq);
      if (f.seq >= conv.last_seq) conv.unread = 0;
    }
  }

  private onError(f: ErrorFrame): void {
    if (f.ref && this.outbox.refuse(f.ref, f.code, errorText(f))) return; // shown on the message
    if (isOptionalFrameRefusal(f)) return; // an older server: it sends everything anyway
    this.flash(errorText(f));
  }
}
