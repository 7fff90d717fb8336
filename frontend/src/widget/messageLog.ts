// The messages of the shown conversation: the server's (placed by seq, each once), the visitor's
// own until acknowledged (local echoes, matched by client_msg_id, resent with the same id and
// kept across reloads), and the gap check that asks the server for what was missed.
import { Outbox, type Positions } from "../shared/client";
import type { Link } from "../shared/link";
import type { AckFrame, Attachment, MessageFrame } from "../shared/protocol";
import { type ChatHost, type ChatMessage, type StoredPending, bySeq, localEcho } from "./chatState";

/** What the log uses of the Chat besides ChatHost. */
export interface LogHost extends ChatHost {
  /** The topic (a skill) picked for a new conversation. */
  readonly topic: string | null;
  onAgentMessage(m: ChatMessage): void;
  markRead(): void;
  typing(on: boolean): void;
}

export class MessageLog {
  /** Unacknowledged sends; their conversation is the chat's current one when they go out. */
  readonly outbox = new Outbox();

  constructor(
    private host: LogHost,
    private positions: Positions,
    private link: Link,
  ) {}

  /** Sends not acknowledged before the last page went away: shown and sent again. */
  restore(pending: StoredPending[]): void {
    for (const p of pending) {
      this.outbox.add(p.body, null, false, p.cmid);
      this.host.state.messages.push(localEcho(p.cmid, p.body));
    }
  }

  /** What is kept across reloads. */
  pending(): StoredPending[] {
    return this.outbox.all().map((o) => ({ cmid: o.client_msg_id, body: o.body }));
  }

  /** A message of the shown conversation (not an internal note), live or from the history. */
  add(m: MessageFrame, fromHistory: boolean): void {
    const s = this.host.state;
    const list = s.messages;
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
    if (m.author.kind === "agent" && m.author.name) s.agentName = m.author.name;
    if (m.author.kind !== "visitor") {
      s.agentTyping = null;
      if (!fromHistory) {
        if (!this.host.visible) {
          s.unread++;
          this.host.save();
        }
        this.host.onAgentMessage(msg);
      }
    }
    this.host.changed();
    this.host.markRead();
  }

  ack(f: AckFrame): void {
    const s = this.host.state;
    this.outbox.settle(f.client_msg_id);
    if (s.conversationId === null) this.host.adopt(f.conversation_id);
    const local = s.messages.find((x) => x.clientMsgId === f.client_msg_id && x.seq === null);
    if (local) {
      local.pending = false;
      if (!s.messages.some((x) => x.seq === f.seq)) {
        local.seq = f.seq;
        local.key = `s${f.seq}`;
      } else s.messages.splice(s.messages.indexOf(local), 1);
      s.messages.sort(bySeq);
    }
    this.received(f.conversation_id, f.seq);
    this.host.save();
    this.host.changed();
    this.flush();
  }

  /** An error frame about the send `ref`: failed for good (shown), or tried again. */
  refuse(code: string, message: string, ref: string): void {
    const o = this.outbox.refuse(ref, code, message);
    if (!o) return;
    if (o.status === "failed") {
      this.outbox.settle(ref); // shown as failed; the visitor writes it again if they like
      const local = this.host.state.messages.find((x) => x.clientMsgId === ref && x.seq === null);
      if (local) {
        local.pending = false;
        local.failed = true;
      }
      this.host.save();
      this.host.changed();
    } else {
      window.setTimeout(() => this.flush(), 2000); // rate limited or transient: try again
    }
  }

  send(body: string, attachments?: Attachment[]): void {
    if (!body.trim() && !attachments?.length) return;
    const o = this.outbox.add(body, null, false, undefined, attachments);
    this.host.state.messages.push(localEcho(o.client_msg_id, body, attachments));
    this.host.save();
    this.host.typing(false);
    this.host.changed();
    this.flush();
  }

  /** Send what is unacknowledged (or overdue), with the same client_msg_id. Without a
   * conversation only the first goes out (it creates the conversation); the rest follow its ack. */
  flush(): void {
    if (!this.host.state.connected) return;
    const conv = this.host.state.conversationId;
    for (const o of this.outbox.due(Date.now(), conv === null ? 1 : Infinity)) {
      const frame: Record<string, unknown> = { type: "send", client_msg_id: o.client_msg_id, body: o.body };
      if (conv !== null) frame.conversation_id = conv;
      else if (this.host.topic) frame.skill = this.host.topic;
      if (o.attachments) frame.attachments = o.attachments.map((a) => a.key);
      this.host.raw(frame);
    }
  }

  /** A seq arrived; after a gap below it, resume from the last gap-free seq (once per gap). */
  private received(conv: number, seq: number): void {
    if (!this.positions.received(conv, seq) || !this.host.state.connected) return;
    const resume = this.positions.gap(conv);
    if (resume && !this.link.send(resume)) this.positions.disconnected();
  }
}
