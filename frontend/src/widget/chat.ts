// The visitor's side of the protocol, without UI: session, socket, resume, resend, messages.
// The database is the log: every shown message has a seq, local echoes are matched by
// client_msg_id (never by content), and unacknowledged sends survive reloads in localStorage.
// Outbox, positions and the socket loop are shared with the console (shared/client.ts, link.ts).
// Its parts: offers.ts (invitations), waiting.ts (queue, overflow, hand-over), typingRead.ts,
// ending.ts (the end of a chat, rating), visitorApi.ts (the HTTP calls besides the session).
import type { IdentityInput } from "../shared/bridge";
import { Positions, backoff } from "../shared/client";
import type { Link } from "../shared/link";
import type { Attachment, ConversationInfo, MessageFrame, ServerFrame } from "../shared/protocol";
import type { ChatHost, ChatMessage, ChatState, Stored } from "./chatState";
import { initialState, readStored, showConversation } from "./chatState";
import { Ending } from "./ending";
import { MessageLog } from "./messageLog";
import { Offers } from "./offers";
import type { Slot } from "./storage";
import type { Tracking } from "./tracking";
import { TypingRead } from "./typingRead";
import { VisitorApi } from "./visitorApi";
import { Waiting } from "./waiting";
import { type SessionReply, type Wire, postSession } from "./wire";

export type { ChatMessage, ChatState, Invite, OverflowInfo, QueueInfo } from "./chatState";

const RESEND_TICK_MS = 2000;

export class Chat implements ChatHost {
  state: ChatState = initialState();
  /** Is the panel visible to the visitor? Set by the UI; drives read receipts and unread. */
  visible = false;
  onChange: () => void = () => {};
  onAgentMessage: (m: ChatMessage) => void = () => {};
  /** Every frame from the server, before the chat handles it (co-browsing listens here). */
  onAnyFrame: (f: { type: string; [k: string]: unknown }) => void = () => {};
  readonly offers: Offers;
  readonly waiting: Waiting;
  readonly ending: Ending;
  readonly api: VisitorApi;
  private signals: TypingRead;
  private log: MessageLog;

  private token: string | null = null;
  /** Gap-free positions: a gap (a lost frame, or an internal note the visitor never gets) is
   * resumed from the last gap-free seq, never skipped (docs/protocol.md, "Delivery guarantees"). */
  private positions = new Positions(true);
  private link: Link;
  private tracking: Tracking;
  private resendTimer = 0;
  private stopped = false;
  private session: Promise<unknown> = Promise.resolve();
  /** The topic (a skill) the visitor picked for a new conversation, if the site offers topics. */
  topic: string | null = null;
  /** This browser tab (kept per tab across navigation): one visit, several tabs. */
  readonly tab: string;
  private site: string;
  /** Loaded when this Chat is made: the UI may save (panel opened) before start(). */
  private stored: Stored;
  /** Has the session chosen the conversation? Until then a save keeps the stored one. */
  private chosen = false;

  /** `wire`: the socket the frame's core opened (wire.ts); this Chat takes it over. */
  constructor(
    private wire: Wire,
    private slot: Slot,
  ) {
    this.site = wire.site;
    this.tab = wire.tab;
    this.link = wire.link;
    this.tracking = wire.tracking;
    this.api = new VisitorApi(this.site, () => this.token);
    this.offers = new Offers(this, this.tab);
    this.waiting = new Waiting(this);
    this.ending = new Ending(this, this.api);
    this.signals = new TypingRead(this, this.positions);
    this.log = new MessageLog(this, this.positions, this.link);
    const stored = (this.stored = readStored(slot));
    this.token = wire.token || stored.token || null;
    this.log.restore(stored.pending || []);
    this.state.unread = stored.unread || 0;
    this.offers.restore(stored);
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  async start(identity?: IdentityInput, invite?: string): Promise<void> {
    const stored = this.stored;
    this.token = this.wire.token || this.token;
    const opening = this.openSession(identity, stored.conv ?? null, invite);
    this.session = opening;
    const waiting = await opening;
    if (waiting && stored.queue && stored.queue.conv === this.state.conversationId) {
      this.state.queue = stored.queue;
      if (stored.overflow && stored.overflow.conv === stored.queue.conv) this.state.overflow = stored.overflow;
    }
    this.state.ready = true;
    this.changed();
    // The socket, from the core: what came before this Chat first, then (already connected)
    // the catching-up a `welcome` starts (resume from the history just loaded, resend).
    const held = this.wire.attach({
      url: (retrying) => this.socketUrl(retrying),
      frame: (f) => this.onFrame(f),
      down: (code) => {
        this.log.outbox.disconnected();
        this.positions.disconnected();
        this.setConnected(false);
        if (code === 4401) this.token = null; // stale token: a fresh session before reconnecting
      },
    });
    for (const f of held) if (f.type !== "welcome") this.onFrame(f);
    if (this.wire.connected) this.onFrame({ type: "welcome" } as ServerFrame);
    // The core's socket may be open as another visitor than this session's (an identify()
    // or a chat link answered after it opened): then it is opened again with this token.
    if (this.wire.started && this.wire.opened !== this.token) this.link.reconnectNow();
    else this.wire.start();
    this.resendTimer = window.setInterval(() => this.flush(), RESEND_TICK_MS);
  }

  async identify(identity: IdentityInput): Promise<void> {
    // One session request at a time: run beside start()'s, both would create a visitor and
    // whichever answered last would win, perhaps the anonymous one.
    await this.session.catch(() => undefined);
    const before = this.token;
    const opening = this.openSession(identity, this.state.conversationId);
    this.session = opening;
    await opening;
    if (this.token !== before) this.link.reconnectNow();
  }

  /** Opens the session; true when the chosen conversation still waits for an agent. */
  private async openSession(
    identity: IdentityInput | undefined,
    conv: number | null,
    invite?: string,
  ): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        // The session the core's socket opened on its handshake, when this is the Chat's first
        // and it has nothing to add (an identity, a chat link): no request of its own.
        let data = !identity && !invite ? this.wire.session : null;
        this.wire.session = null;
        if (!data) {
          const r = await postSession(this.site, this.token, identity, invite);
          if (r.status === 403 && invite) {
            invite = undefined; // expired or used up: carry on as the visitor we were
            continue;
          }
          if (!r.ok) throw new Error(`session ${r.status}`);
          data = (await r.json()) as SessionReply;
        }
        this.token = this.wire.token = data.token;
        this.state.whatsapp = Boolean(data.whatsapp);
        this.state.uploads = Boolean(data.uploads);
        const ids = data.conversations.map((c) => c.id);
        if (data.invited_conversation != null) conv = data.invited_conversation;
        const chosen = conv !== null && ids.includes(conv) ? conv : ids.length ? Math.max(...ids) : null;
        this.chosen = true;
        if (chosen !== this.state.conversationId) this.switchTo(chosen);
        this.save();
        if (chosen !== null) await this.loadHistory(chosen);
        const info = data.conversations.find((c) => c.id === chosen);
        this.state.bot = Boolean(info && info.bot && info.status === "open" && info.assignee_id == null);
        if (info) this.ending.update(info);
        return Boolean(info && info.status === "open" && info.assignee_id == null);
      } catch {
        await sleep(backoff(attempt));
      }
    }
  }

  /** The site's knowledge base (docs/assist.md), once the session is there. */
  async kb<T>(path: string, params: Record<string, string>, method = "GET"): Promise<T | null> {
    await this.session.catch(() => undefined);
    return this.api.kb<T>(path, params, method);
  }

  /** Upload a file into the open conversation (the site must allow it); the error's message
   * says why it was refused. */
  async uploadFile(file: File): Promise<Attachment> {
    const conv = this.state.conversationId;
    if (conv === null || !this.token) throw new Error("no conversation");
    return this.api.uploadFile(conv, file);
  }

  private async loadHistory(conv: number): Promise<void> {
    for (const m of (await this.api.history(conv)) || []) this.addMessage(m, true);
  }

  /** The socket's URL; before a reconnect, a fresh session when the token was refused (or, with
   * nothing to say yet, to pick up a conversation started meanwhile on another tab). */
  private async socketUrl(retrying: boolean): Promise<string | null> {
    if (retrying) {
      if (!this.token) await this.openSession(undefined, this.state.conversationId);
      else if (this.state.conversationId === null && this.log.outbox.size === 0) await this.openSession(undefined, null);
    }
    if (this.stopped || !this.token) return null;
    return this.wire.url(this.token);
  }

  private setConnected(on: boolean): void {
    this.state.connected = on;
    if (on) this.state.everConnected = true;
    this.changed();
  }

  // ---- frames ---------------------------------------------------------------------------------

  private onFrame(f: ServerFrame): void {
    this.onAnyFrame(f as unknown as { type: string; [k: string]: unknown });
    switch (f.type) {
      case "welcome":
        this.setConnected(true);
        if (this.state.conversationId !== null)
          this.raw({ type: "resume", conversations: this.positions.resume([this.state.conversationId]) });
        this.flush();
        this.tracking.flush();
        return;
      case "message":
        this.addMessage(f, false);
        return;
      case "resumed":
        this.positions.resumed(f.conversations);
        this.markRead();
        return;
      case "ack":
        this.log.ack(f);
        return;
      case "conversation":
        this.onConversation(f.conversation);
        return;
      case "offer":
        this.offers.onOffer(f);
        return;
      case "queue":
        this.waiting.onQueue(f);
        return;
      case "overflow":
        this.waiting.onOverflow(f);
        return;
      case "typing":
        this.signals.onTyping(f);
        return;
      case "read":
        this.signals.onRead(f);
        return;
      case "error":
        if (f.ref) this.log.refuse(f.code, f.message, f.ref);
        else this.waiting.refused(f.code);
        return;
    }
  }

  /** Show another conversation (a new one after an accepted invitation, or a session's). */
  private switchTo(conv: number | null): void {
    showConversation(this.state, conv);
    if (conv !== null) this.positions.known(conv, 0);
    this.signals.reset();
    this.ending.asked = false;
    this.save();
    this.changed();
  }

  private onConversation(c: ConversationInfo): void {
    if (this.offers.expectingConv && c.id !== this.state.conversationId) {
      this.offers.expectingConv = false;
      this.switchTo(c.id);
    } else if (this.state.conversationId === null) this.adopt(c.id);
    if (c.id !== this.state.conversationId) return;
    this.ending.update(c); // who has it, its end (docs/lifecycle.md)
    const bot = Boolean(c.bot) && c.assignee_id == null && c.status === "open";
    if (bot !== this.state.bot) {
      this.state.bot = bot;
      this.changed();
    }
    if (c.assignee_id != null || c.status !== "open") {
      if (c.assignee_id != null && (this.state.queue || this.state.overflow))
        this.state.joinedAt = new Date().toISOString();
      this.state.queue = null;
      this.state.overflow = null;
      this.save();
      this.changed();
    }
  }

  /** After the end: the next message starts a new conversation. */
  newChat(): void {
    this.switchTo(null);
  }

  /** Continue on WhatsApp: the wa.me link and its QR code (visitorApi.ts). */
  async whatsappLink(text: string): Promise<void> {
    const conv = this.state.conversationId;
    if (conv === null || !this.token) return;
    const link = await this.api.whatsappLink(conv, text);
    if (!link) return;
    this.state.waLink = link;
    this.changed();
  }

  /** The first news of a conversation while none is shown: show it. */
  adopt(conv: number): void {
    this.state.conversationId = conv;
    this.positions.known(conv, 0);
    this.save();
    this.changed();
  }

  private addMessage(m: MessageFrame, fromHistory: boolean): void {
    if (this.offers.expectingConv && !fromHistory && m.conversation_id !== this.state.conversationId) {
      this.offers.expectingConv = false;
      this.switchTo(m.conversation_id);
    }
    if (this.state.conversationId === null) this.adopt(m.conversation_id);
    if (m.conversation_id !== this.state.conversationId || m.internal) return;
    this.log.add(m, fromHistory);
  }

  // ---- visitor actions ------------------------------------------------------------------------

  send(body: string, attachments?: Attachment[]): void {
    this.log.send(body, attachments);
  }

  private flush(): void {
    this.log.flush();
  }

  typing(on: boolean): void {
    this.signals.typing(on);
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible && this.state.unread) {
      this.state.unread = 0;
      this.save();
      this.changed();
    }
    this.offers.markSeen();
    this.markRead();
  }

  markRead(): void {
    this.signals.markRead();
  }

  async refreshStatus(): Promise<void> {
    const online = await this.api.online();
    if (online === null) return; // keep the last known state
    this.state.agentsOnline = online;
    this.changed();
  }

  stop(): void {
    this.stopped = true;
    window.clearInterval(this.resendTimer);
    this.link.stop();
  }

  // ---- helpers --------------------------------------------------------------------------------

  /** Send a frame now if connected (co-browsing); false when the socket is down. */
  sendFrame(frame: Record<string, unknown>): boolean {
    return this.link.send(frame);
  }

  raw(frame: Record<string, unknown>): void {
    this.link.send(frame);
  }

  control(frame: Record<string, unknown>): void {
    this.tracking.control(frame);
  }

  changed(): void {
    this.onChange();
  }

  save(): void {
    const keep = this.chosen ? null : this.stored; // before the session: what was loaded
    const data: Stored = {
      token: (keep ? this.wire.token || this.token : this.token) || undefined,
      conv: keep ? (keep.conv ?? null) : this.state.conversationId,
      pending: this.log.pending(),
      unread: this.state.unread,
      invite: this.state.invite,
      notes: this.state.notes,
      seen: Array.from(this.offers.seen).slice(-20),
      queue: keep ? (keep.queue ?? null) : this.state.queue,
      overflow: keep ? (keep.overflow ?? null) : this.state.overflow,
    };
    this.slot.set(JSON.stringify(data));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
