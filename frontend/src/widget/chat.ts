// The visitor's side of the protocol, without UI: session, socket, resume, resend, read, typing.
// The database is the log: every shown message has a seq, local echoes are matched by
// client_msg_id (never by content), and unacknowledged sends survive reloads in localStorage.
// Outbox, positions and the socket loop are shared with the console (shared/client.ts, link.ts).
import type { IdentityInput } from "../shared/bridge";
import { Outbox, Positions, backoff } from "../shared/client";
import type { Link } from "../shared/link";
import type {
  AckFrame,
  Attachment,
  ConversationInfo,
  MessageFrame,
  OfferFrame,
  OverflowFrame,
  QueueChoice,
  QueueFrame,
  ServerFrame,
} from "../shared/protocol";
import {
  type ChatMessage,
  type ChatState,
  type Invite,
  type QueueInfo,
  type Stored,
  bySeq,
  initialState,
  localEcho,
} from "./chatState";
import type { Slot } from "./storage";
import type { Tracking } from "./tracking";
import { type SessionReply, type Wire, postSession } from "./wire";

export type { ChatMessage, ChatState, Invite, OverflowInfo, QueueInfo } from "./chatState";

const INVITE_TTL = 110_000; // the server counts an unanswered invitation as ignored at 120 s
const RESEND_TICK_MS = 2000;

export class Chat {
  state: ChatState = initialState();
  /** Is the panel visible to the visitor? Set by the UI; drives read receipts and unread. */
  visible = false;
  onChange: () => void = () => {};
  onAgentMessage: (m: ChatMessage) => void = () => {};
  onInvite: (invite: Invite) => void = () => {};
  onNote: (m: ChatMessage) => void = () => {};
  /** Every frame from the server, before the chat handles it (co-browsing listens here). */
  onAnyFrame: (f: { type: string; [k: string]: unknown }) => void = () => {};
  /** Given in the offline form: when the new chat overflows, leave the message for email. */
  offlineEmail: string | null = null;
  /** The callback number the server refused (bad_phone), shown again to be corrected. */
  badPhone: string | null = null;
  private lastOverflow: ChatState["overflow"] = null;
  private triedPhone: string | null = null;

  private token: string | null = null;
  /** Unacknowledged sends; their conversation is the chat's current one when they go out. */
  private outbox = new Outbox();
  /** Gap-free positions: a gap (a lost frame, or an internal note the visitor never gets) is
   * resumed from the last gap-free seq, never skipped (docs/protocol.md, "Delivery guarantees"). */
  private positions = new Positions(true);
  private link: Link;
  private tracking: Tracking;
  private readSent = 0;
  private typingSentAt = 0;
  private typingTimer = 0;
  private agentTypingTimer = 0;
  private resendTimer = 0;
  private stopped = false;
  private seen = new Set<number>();
  private expectingConv = false;
  /** The last queue place the server told per conversation (it repeats only changes). */
  private told = new Map<number, QueueInfo>();
  /** Conversations the bot handed over: the bot is not offered again. */
  private handedOver = new Set<number>();
  private session: Promise<unknown> = Promise.resolve();
  /** The topic (a skill) the visitor picked for a new conversation, if the site offers topics. */
  topic: string | null = null;
  /** This browser tab (kept per tab across navigation): one visit, several tabs. */
  readonly tab: string;
  private site: string;

  /** `wire`: the socket the frame's core opened (wire.ts); this Chat takes it over. */
  constructor(
    private wire: Wire,
    private slot: Slot,
  ) {
    this.site = wire.site;
    this.tab = wire.tab;
    this.link = wire.link;
    this.tracking = wire.tracking;
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  async start(identity?: IdentityInput, invite?: string): Promise<void> {
    const stored = this.load();
    this.token = this.wire.token || stored.token || null;
    for (const p of stored.pending || []) {
      this.outbox.add(p.body, null, false, p.cmid);
      this.state.messages.push(localEcho(p.cmid, p.body));
    }
    this.state.unread = stored.unread || 0;
    const inv = stored.invite;
    const mine = inv && (!inv.tab || inv.tab === this.tab);
    this.state.invite = inv && mine && Date.now() - inv.at < INVITE_TTL ? inv : null;
    this.state.notes = (stored.notes || []).slice(-5);
    this.seen = new Set(stored.seen || []);
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
        this.outbox.disconnected();
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
        if (chosen !== this.state.conversationId) this.switchTo(chosen);
        this.save();
        if (chosen !== null) await this.loadHistory(chosen);
        const info = data.conversations.find((c) => c.id === chosen);
        this.state.bot = Boolean(info && info.bot && info.status === "open" && info.assignee_id == null);
        if (info) this.lifecycle(info);
        return Boolean(info && info.status === "open" && info.assignee_id == null);
      } catch {
        await sleep(backoff(attempt));
      }
    }
  }

  /** The site's knowledge base (docs/assist.md): search, read, "this answered my question". */
  async kb<T>(path: string, params: Record<string, string>, method = "GET"): Promise<T | null> {
    await this.session.catch(() => undefined);
    if (!this.token) return null;
    const q = new URLSearchParams({ site_key: this.site, ...params });
    const r = await fetch(`/api/visitor/kb${path}?${q}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}` },
    });
    return r.ok ? ((await r.json()) as T) : null;
  }

  private fileUrls = new Map<string, Promise<string | null>>();

  /** A file of the conversation as a local blob: URL, fetched with the visitor token (the file
   * is served to this visitor only, never by a shareable link). */
  fileUrl(key: string): Promise<string | null> {
    let url = this.fileUrls.get(key);
    if (!url) {
      const q = new URLSearchParams({ site_key: this.site });
      url = fetch(`/api/visitor/files/${encodeURIComponent(key)}?${q}`, {
        headers: { Authorization: `Bearer ${this.token}` },
      })
        .then(async (r) => (r.ok ? URL.createObjectURL(await r.blob()) : null))
        .catch(() => null);
      url.then((u) => u === null && this.fileUrls.delete(key));
      this.fileUrls.set(key, url);
    }
    return url;
  }

  /** Upload a file into the open conversation (the site must allow it); the error's message
   * says why it was refused. */
  async uploadFile(file: File): Promise<Attachment> {
    const conv = this.state.conversationId;
    if (conv === null || !this.token) throw new Error("no conversation");
    const q = new URLSearchParams({ site_key: this.site, conversation_id: String(conv), name: file.name || "file" });
    const r = await fetch(`/api/visitor/files?${q}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": file.type || "application/octet-stream" },
      body: file,
    });
    const data = await r.json().catch(() => null);
    if (!r.ok) throw new Error((data && data.message) || `upload ${r.status}`);
    return data as Attachment;
  }

  private async loadHistory(conv: number): Promise<void> {
    const q = new URLSearchParams({ site_key: this.site, limit: "100" });
    const r = await fetch(`/api/visitor/conversations/${conv}/messages?${q}`, {
      headers: { Authorization: `Bearer ${this.token}` },
    });
    if (!r.ok) return;
    for (const m of (await r.json()) as MessageFrame[]) this.addMessage(m, true);
  }

  /** The socket's URL; before a reconnect, a fresh session when the token was refused (or, with
   * nothing to say yet, to pick up a conversation started meanwhile on another tab). */
  private async socketUrl(retrying: boolean): Promise<string | null> {
    if (retrying) {
      if (!this.token) await this.openSession(undefined, this.state.conversationId);
      else if (this.state.conversationId === null && this.outbox.size === 0) await this.openSession(undefined, null);
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
        this.onAck(f);
        return;
      case "conversation":
        this.onConversation(f.conversation);
        return;
      case "offer":
        this.onOffer(f);
        return;
      case "queue":
        this.onQueue(f);
        return;
      case "overflow":
        this.onOverflow(f);
        return;
      case "typing":
        if (f.author.kind !== "visitor" && f.conversation_id === this.state.conversationId) {
          this.state.agentTyping = f.is_typing ? f.author.name || "" : null;
          clearTimeout(this.agentTypingTimer);
          if (f.is_typing)
            this.agentTypingTimer = window.setTimeout(() => {
              this.state.agentTyping = null;
              this.changed();
            }, 8000);
          this.changed();
        }
        return;
      case "read":
        if (f.reader === "agent" && f.conversation_id === this.state.conversationId) {
          this.state.agentReadSeq = Math.max(this.state.agentReadSeq, f.seq);
          this.changed();
        }
        return;
      case "error":
        this.onError(f.code, f.message, f.ref || null);
        return;
    }
  }

  /** Show another conversation (a new one after an accepted invitation, or a session's). */
  private switchTo(conv: number | null): void {
    this.state.conversationId = conv;
    this.state.messages = this.state.messages.filter((m) => m.pending || m.failed);
    this.state.agentReadSeq = 0;
    this.state.agentName = null;
    this.state.agentAvatar = null;
    this.state.ended = null;
    this.state.rated = false;
    this.state.queue = null;
    this.state.overflow = null;
    this.state.joinedAt = null;
    this.state.bot = false;
    if (conv !== null) this.positions.known(conv, 0);
    this.readSent = 0;
    this.save();
    this.changed();
  }

  private onConversation(c: ConversationInfo): void {
    if (this.expectingConv && c.id !== this.state.conversationId) {
      this.expectingConv = false;
      this.switchTo(c.id);
    } else if (this.state.conversationId === null) this.adopt(c.id);
    if (c.id !== this.state.conversationId) return;
    this.lifecycle(c);
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

  /** Who has the chat (header), whether it ended and was rated (docs/lifecycle.md). */
  private lifecycle(c: ConversationInfo): void {
    const agent = c.agent as { name?: string; avatar?: string | null } | null | undefined;
    if (agent && agent.name) {
      this.state.agentName = agent.name;
      this.state.agentAvatar = agent.avatar || null;
    }
    const ended = c.ended as { by?: string; scale?: string } | null | undefined;
    this.state.ended =
      c.status === "resolved" && ended
        ? { by: ended.by || "agent", scale: ended.scale === "thumbs" ? "thumbs" : "stars" }
        : null;
    this.state.rated = Boolean(c.rated);
    this.changed();
  }

  /** The visitor rates the ended chat (1-5; thumbs: 1 or 5) with an optional comment. */
  rate(score: number, comment: string): void {
    const conv = this.state.conversationId;
    if (conv === null || !this.state.ended || this.state.rated) return;
    this.tracking.control({ type: "rate", conversation_id: conv, score, comment: comment.slice(0, 2000) });
    this.state.rated = true;
    this.changed();
  }

  /** After the end: the next message starts a new conversation. */
  newChat(): void {
    this.switchTo(null);
  }

  /** The chat as plain text (what the visitor saw), for the transcript download. */
  transcript(names: { you: string; agent: string }): string {
    return this.state.messages
      .filter((m) => m.seq !== null)
      .map((m) => {
        const who = m.author.kind === "visitor" ? names.you : m.author.name || names.agent;
        return `[${m.createdAt || ""}] ${who}: ${m.body}`;
      })
      .join("\n");
  }

  private onQueue(f: QueueFrame): void {
    if (this.state.conversationId === null) this.adopt(f.conversation_id);
    if (f.conversation_id !== this.state.conversationId) return;
    this.state.queue = { conv: f.conversation_id, position: f.position, wait: f.estimated_wait_seconds };
    this.told.set(f.conversation_id, this.state.queue);
    this.state.joinedAt = null;
    this.save();
    this.changed();
  }

  private onOverflow(f: OverflowFrame): void {
    if (this.state.conversationId === null) this.adopt(f.conversation_id);
    if (f.conversation_id !== this.state.conversationId) return;
    if (!this.state.queue)
      this.state.queue = { conv: f.conversation_id, position: 1, wait: f.estimated_wait_seconds };
    if (this.offlineEmail) {
      // The visitor already left an address in the offline form: that was the choice.
      this.chooseQueue("message", { email: this.offlineEmail });
      this.offlineEmail = null;
      return;
    }
    this.state.overflow = {
      conv: f.conversation_id,
      reason: f.reason,
      wait: f.estimated_wait_seconds,
      options: this.handedOver.has(f.conversation_id) ? f.options.filter((o) => o !== "bot") : f.options,
    };
    this.save();
    this.changed();
  }

  private onOffer(f: OfferFrame): void {
    if (f.tab && f.tab !== this.tab) return; // another tab of this visitor shows it
    const at = Date.now();
    if (f.kind === "message") {
      if (this.state.notes.some((n) => n.key === `o${f.offer_id}`)) return;
      const note: ChatMessage = {
        key: `o${f.offer_id}`,
        seq: null,
        author: { kind: "bot", name: f.agent_name || null },
        body: f.text,
        createdAt: new Date(at).toISOString(),
        clientMsgId: null,
        pending: false,
        failed: false,
      };
      this.state.notes = [...this.state.notes, note].slice(-5);
      if (!this.visible) this.state.unread++;
      this.save();
      this.onNote(note);
      this.markSeen();
      this.changed();
      return;
    }
    const invite: Invite = {
      id: f.offer_id,
      kind: f.kind,
      text: f.text,
      agentName: f.agent_name || null,
      agentPhoto: f.agent_photo || null,
      quiet: Boolean(f.quiet),
      autoOpen: Boolean(f.auto_open),
      at,
      tab: f.tab || null,
    };
    this.state.invite = invite;
    this.save();
    this.changed();
    this.onInvite(invite);
  }

  /** The visitor said yes or no to the invitation. Yes opens a new conversation. */
  answerInvite(accepted: boolean): void {
    const inv = this.state.invite;
    if (!inv) return;
    this.state.invite = null;
    this.tracking.control({ type: "offer_reply", offer_id: inv.id, outcome: accepted ? "accepted" : "dismissed" });
    this.expectingConv = accepted;
    this.save();
    this.changed();
  }

  /** What a waiting visitor chose after an overflow (or to keep waiting). */
  chooseQueue(choice: QueueChoice, details: Record<string, string> = {}): void {
    const conv = this.state.conversationId;
    if (conv === null) return;
    this.lastOverflow = this.state.overflow;
    this.triedPhone = details.phone ?? null;
    this.badPhone = null;
    const frame: Record<string, unknown> = { type: "queue_choice", conversation_id: conv, choice };
    for (const [k, v] of Object.entries(details)) if (v.trim()) frame[k] = v.trim();
    this.tracking.control(frame);
    this.state.overflow = null;
    if (choice !== "wait") this.state.queue = null;
    this.save();
    this.changed();
  }

  /** "Talk to a person": the bot hands the conversation to the queue, with all that was said. */
  /** Continue on WhatsApp: a wa.me link whose prefilled text names this conversation (signed),
   * so the WhatsApp message that follows continues it with its history. */
  async whatsappLink(text: string): Promise<void> {
    const conv = this.state.conversationId;
    if (conv === null || !this.token) return;
    const r = await fetch("/api/visitor/whatsapp-link", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ site_key: this.site, conversation_id: conv, text }),
    });
    if (!r.ok) return;
    const data = (await r.json()) as { url: string; qr_svg: string };
    this.state.waLink = { url: data.url, qr: data.qr_svg };
    this.changed();
  }

  /** At the end of a chat: its transcript by email to ``email`` (the server checks the address
   * and how often). Resolves to the (masked) address it goes to, or null with ``error`` set. */
  async mailTranscript(email: string): Promise<{ to: string | null; error: string | null }> {
    const conv = this.state.conversationId;
    if (conv === null || !this.token) return { to: null, error: "no_conversation" };
    try {
      const r = await fetch("/api/visitor/transcript-mail", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ site_key: this.site, conversation_id: conv, email: email.trim() }),
      });
      const data = (await r.json().catch(() => ({}))) as { to?: string; code?: string };
      return r.ok ? { to: data.to ?? email, error: null } : { to: null, error: data.code ?? "failed" };
    } catch {
      return { to: null, error: "network" };
    }
  }

  handover(): void {
    const conv = this.state.conversationId;
    if (conv === null || !this.state.bot) return;
    this.tracking.control({ type: "handover", conversation_id: conv });
    this.state.bot = false;
    this.handedOver.add(conv);
    // The server repeats a queue place only when it changes: show the last one meanwhile.
    this.state.queue = this.told.get(conv) || { conv, position: 1, wait: null };
    this.save();
    this.changed();
  }

  /** Message offers the visitor has now seen count as accepted. */
  private markSeen(): void {
    if (!this.visible) return;
    for (const n of this.state.notes) {
      const id = Number(n.key.slice(1));
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      this.tracking.control({ type: "offer_reply", offer_id: id, outcome: "accepted" });
    }
    this.save();
  }

  private adopt(conv: number): void {
    this.state.conversationId = conv;
    this.positions.known(conv, 0);
    this.save();
    this.changed();
  }

  private addMessage(m: MessageFrame, fromHistory: boolean): void {
    if (this.expectingConv && !fromHistory && m.conversation_id !== this.state.conversationId) {
      this.expectingConv = false;
      this.switchTo(m.conversation_id);
    }
    if (this.state.conversationId === null) this.adopt(m.conversation_id);
    if (m.conversation_id !== this.state.conversationId || m.internal) return;
    const list = this.state.messages;
    if (list.some((x) => x.seq === m.seq)) return;
    const msg: ChatMessage = {
      key: `s${m.seq}`,
      seq: m.seq,
      author: m.author,
      body: m.body,
      createdAt: m.created_at,
      clientMsgId: m.client_msg_id || null,
      pending: false,
      failed: false,
      attachments: m.attachments?.length ? m.attachments : undefined,
    };
    const echo = m.client_msg_id ? list.findIndex((x) => x.clientMsgId === m.client_msg_id) : -1;
    if (echo >= 0) list.splice(echo, 1);
    let at = list.findIndex((x) => x.seq === null || (x.seq as number) > m.seq);
    if (at < 0) at = list.length;
    list.splice(at, 0, msg);
    this.received(m.conversation_id, m.seq);
    if (m.author.kind === "agent" && m.author.name) this.state.agentName = m.author.name;
    if (m.author.kind !== "visitor") {
      this.state.agentTyping = null;
      if (!fromHistory) {
        if (!this.visible) {
          this.state.unread++;
          this.save();
        }
        this.onAgentMessage(msg);
      }
    }
    this.changed();
    this.markRead();
  }

  private onAck(f: AckFrame): void {
    this.outbox.settle(f.client_msg_id);
    if (this.state.conversationId === null) this.adopt(f.conversation_id);
    const local = this.state.messages.find((x) => x.clientMsgId === f.client_msg_id && x.seq === null);
    if (local) {
      local.pending = false;
      if (!this.state.messages.some((x) => x.seq === f.seq)) {
        local.seq = f.seq;
        local.key = `s${f.seq}`;
      } else this.state.messages.splice(this.state.messages.indexOf(local), 1);
      this.state.messages.sort(bySeq);
    }
    this.received(f.conversation_id, f.seq);
    this.save();
    this.changed();
    this.flush();
  }

  private onError(code: string, message: string, ref: string | null): void {
    if (!ref) {
      if (code === "bad_phone" && this.lastOverflow) {
        // the callback was refused: the choices come back, with the number to correct
        this.state.overflow = this.lastOverflow;
        this.badPhone = this.triedPhone ?? "";
        this.changed();
      }
      return;
    }
    const o = this.outbox.refuse(ref, code, message);
    if (!o) return;
    if (o.status === "failed") {
      this.outbox.settle(ref); // shown as failed; the visitor writes it again if they like
      const local = this.state.messages.find((x) => x.clientMsgId === ref && x.seq === null);
      if (local) {
        local.pending = false;
        local.failed = true;
      }
      this.save();
      this.changed();
    } else {
      window.setTimeout(() => this.flush(), 2000); // rate limited or transient: try again
    }
  }

  // ---- visitor actions ------------------------------------------------------------------------

  send(body: string, attachments?: Attachment[]): void {
    if (!body.trim() && !attachments?.length) return;
    const o = this.outbox.add(body, null, false, undefined, attachments);
    this.state.messages.push(localEcho(o.client_msg_id, body, attachments));
    this.save();
    this.typing(false);
    this.changed();
    this.flush();
  }

  /** Send what is unacknowledged (or overdue), with the same client_msg_id. Without a
   * conversation only the first goes out (it creates the conversation); the rest follow its ack. */
  private flush(): void {
    if (!this.state.connected) return;
    const conv = this.state.conversationId;
    for (const o of this.outbox.due(Date.now(), conv === null ? 1 : Infinity)) {
      const frame: Record<string, unknown> = { type: "send", client_msg_id: o.client_msg_id, body: o.body };
      if (conv !== null) frame.conversation_id = conv;
      else if (this.topic) frame.skill = this.topic;
      if (o.attachments) frame.attachments = o.attachments.map((a) => a.key);
      this.raw(frame);
    }
  }

  typing(on: boolean): void {
    const conv = this.state.conversationId;
    if (conv === null || !this.state.connected) return;
    clearTimeout(this.typingTimer);
    const now = Date.now();
    if (on) {
      if (now - this.typingSentAt > 3000) {
        this.typingSentAt = now;
        this.raw({ type: "typing", conversation_id: conv, is_typing: true });
      }
      this.typingTimer = window.setTimeout(() => this.typing(false), 4000);
    } else if (this.typingSentAt) {
      this.typingSentAt = 0;
      this.raw({ type: "typing", conversation_id: conv, is_typing: false });
    }
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible && this.state.unread) {
      this.state.unread = 0;
      this.save();
      this.changed();
    }
    this.markSeen();
    this.markRead();
  }

  markRead(): void {
    const conv = this.state.conversationId;
    if (!this.visible || document.hidden || conv === null || !this.state.connected) return;
    const seq = this.positions.get(conv) ?? 0;
    if (seq > this.readSent) {
      this.readSent = seq;
      this.raw({ type: "read", conversation_id: conv, seq });
    }
  }

  async refreshStatus(): Promise<void> {
    try {
      const r = await fetch(`/api/visitor/status?site_key=${encodeURIComponent(this.site)}`);
      if (r.ok) {
        this.state.agentsOnline = Boolean(((await r.json()) as { online: boolean }).online);
        this.changed();
      }
    } catch {
      /* keep the last known state */
    }
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

  /** A seq arrived; after a gap below it, resume from the last gap-free seq (once per gap). */
  private received(conv: number, seq: number): void {
    if (!this.positions.received(conv, seq) || !this.state.connected) return;
    const resume = this.positions.gap(conv);
    if (resume && !this.link.send(resume)) this.positions.disconnected();
  }

  private raw(frame: Record<string, unknown>): void {
    this.link.send(frame);
  }

  private changed(): void {
    this.onChange();
  }

  private load(): Stored {
    try {
      return JSON.parse(this.slot.get() || "{}") as Stored;
    } catch {
      return {};
    }
  }

  private save(): void {
    const data: Stored = {
      token: this.token || undefined,
      conv: this.state.conversationId,
      pending: this.outbox.all().map((o) => ({ cmid: o.client_msg_id, body: o.body })),
      unread: this.state.unread,
      invite: this.state.invite,
      notes: this.state.notes,
      seen: Array.from(this.seen).slice(-20),
      queue: this.state.queue,
      overflow: this.state.overflow,
    };
    this.slot.set(JSON.stringify(data));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
