// The console's conversations: the inbox, loading them and their messages, the tabs (and the
// watches that follow them), read receipts, and the actions on a conversation (status, routing,
// a radar invitation).
import { api } from "./api";
import { StoreState } from "./storeState";
import type { Conv, Msg, Pending, RadarVisitor, VisitorCtx } from "./types";
import { errorText } from "./errors";

export const MAX_TABS = 5;
const PAGE = 50;

export abstract class StoreConversations extends StoreState {
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
  protected watch(id: number): void {
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

  protected putMessage(m: Msg): void {
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

  protected mergeConv(c: Conv): void {
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
  protected showPageView(before: RadarVisitor | undefined, now: RadarVisitor, ctx = this.visitors.get(now.id)): void {
    if (ctx && now.url && (now.pages_viewed ?? 0) > (before?.pages_viewed ?? 0)) {
      const at = new Date((now.page_started_at || Date.now() / 1000) * 1000).toISOString();
      ctx.pages = [{ url: now.url, title: now.title, at }, ...ctx.pages].slice(0, 20);
      ctx.current_page = now.url;
    }
  }

  // ---- read receipts and gaps -----------------------------------------------------------------

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

  /** A seq arrived; after a gap below it, resume from the last gap-free seq (once per gap). */
  protected received(conv: number, seq: number): void {
    if (!this.positions.received(conv, seq)) return;
    const resume = this.positions.gap(conv);
    if (resume && !this.socket.send(resume)) this.positions.disconnected();
  }
}
