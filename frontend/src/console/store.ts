// Console state and the real-time protocol: conversations, tabs (and the watches that follow
// them), unread counts, typing, read receipts. Unacked sends and positions are the shared
// client's (shared/client.ts). Components read it and call its methods.
//
// The Store is built in layers: storeState.ts (fields, socket, change notifications, timers),
// storeConversations.ts (the inbox, tabs and watches, read receipts, actions on a
// conversation), and here sending and the incoming frames.
import { type Attachment, type ErrorFrame, type ServerFrame, isOptionalFrameRefusal } from "../shared/protocol";
import { beep, desktopNotify } from "./notify";
import { StoreConversations } from "./storeConversations";
import type { Conv, Msg } from "./types";
import { visitorName } from "./types";
import { errorText } from "./errors";
import { t } from "./i18n";

export { MAX_TABS } from "./storeConversations";

const TYPING_SHOWN_MS = 6000;

type Frame<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;

export class Store extends StoreConversations {
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
  protected flushOutbox(): void {
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

  // ---- incoming frames ------------------------------------------------------------------------

  protected onFrame(f: ServerFrame): void {
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

  protected expireTyping(): void {
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
