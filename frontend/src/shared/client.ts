// The client's half of the delivery guarantees (docs/protocol.md, "Delivery guarantees"), shared
// by the widget and the console: client message ids, the outbox of unacknowledged sends, the
// per-conversation positions a `resume` is built from, and the reconnect backoff. No UI, no
// socket: widget/chat.ts and console/store.ts drive these from their frames.

/** Reconnect delay: exponential from 500 ms to 15 s, with jitter so a restart is not a stampede. */
export function backoff(attempt: number, base = 500, cap = 15000): number {
  const d = Math.min(cap, base * 2 ** Math.min(attempt, 10));
  return Math.round(d * (0.5 + Math.random() * 0.5));
}

/** A `client_msg_id`: random, so a resend after a timeout is recognised, never a new message. */
export function newClientMsgId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const b = new Uint8Array(16);
  if (c) c.getRandomValues(b);
  else for (let i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// ---- outbox ---------------------------------------------------------------------------------

/** A `send` not yet acknowledged. */
export interface Outgoing {
  client_msg_id: string;
  body: string;
  /** null: a visitor's first message, which creates the conversation. */
  conversation_id: number | null;
  internal: boolean;
  /** Files uploaded for it (their keys go out with the send). */
  attachments?: { key: string; name: string; type: string; size: number }[];
  status: "sending" | "failed";
  /** Why it failed (the error frame's message). */
  error?: string;
  /** When it last went out (ms); null while it is not in flight (never sent, or the socket
   * that carried it is gone). */
  sent_at: number | null;
}

/** Error codes after which the same send may succeed later (docs/protocol.md, error codes);
 * any other error with a `ref` fails the message for good. */
const TRANSIENT = new Set(["retry", "rate_limited", "internal"]);

export const ACK_TIMEOUT_MS = 8000;

/** Unacknowledged sends keyed by client_msg_id, in the order they were written. Resending keeps
 * the id, so the server acknowledges a duplicate instead of storing it twice. */
export class Outbox {
  private items = new Map<string, Outgoing>();

  constructor(private ackTimeoutMs = ACK_TIMEOUT_MS) {}

  add(body: string, conversationId: number | null, internal = false, cmid = newClientMsgId(), attachments?: Outgoing["attachments"]): Outgoing {
    const o: Outgoing = { client_msg_id: cmid, body, conversation_id: conversationId, internal, status: "sending", sent_at: null };
    if (attachments?.length) o.attachments = attachments;
    this.items.set(cmid, o);
    return o;
  }

  get(cmid: string): Outgoing | undefined {
    return this.items.get(cmid);
  }

  get size(): number {
    return this.items.size;
  }

  all(): Outgoing[] {
    return [...this.items.values()];
  }

  /** Stored (an ack, or the message itself came back): no longer ours to send. */
  settle(cmid: string): Outgoing | undefined {
    const o = this.items.get(cmid);
    this.items.delete(cmid);
    return o;
  }

  /** An error frame with this `ref`. Transient: it goes out again with the next `due()`.
   * Otherwise it is marked failed (the user may retry or discard it). */
  refuse(ref: string, code: string, message: string): Outgoing | undefined {
    const o = this.items.get(ref);
    if (!o) return undefined;
    o.sent_at = null;
    if (!TRANSIENT.has(code)) {
      o.status = "failed";
      o.error = message || code;
    }
    return o;
  }

  retry(cmid: string): Outgoing | undefined {
    const o = this.items.get(cmid);
    if (o) {
      o.status = "sending";
      o.error = undefined;
      o.sent_at = null;
    }
    return o;
  }

  /** The socket closed: nothing is in flight any more; all goes out again after reconnecting. */
  disconnected(): void {
    this.items.forEach((o) => (o.sent_at = null));
  }

  /** What should go out now: never sent, or sent too long ago without an ack. They are marked
   * as sent at `now`; `limit` caps how many (a visitor's first message goes alone). */
  due(now: number, limit = Infinity): Outgoing[] {
    const out: Outgoing[] = [];
    let n = 0;
    for (const o of this.items.values()) {
      if (o.status !== "sending") continue;
      if (n++ >= limit) break; // one in flight still takes its place
      if (o.sent_at === null || now - o.sent_at > this.ackTimeoutMs) {
        o.sent_at = now;
        out.push(o);
      }
    }
    return out;
  }
}

// ---- positions ------------------------------------------------------------------------------

export const MAX_RESUME = 100;

/** Per conversation, the highest seq up to which this client has everything: what a `resume`
 * or `watch` names, so the server sends exactly what came after.
 *
 * A message only moves the position when no seq is missing below it; a later one waits until the
 * gap is filled. A client that sees a gap resumes from its last gap-free seq (never from its
 * newest): `gap()` names the conversations to resume now, once each until the server's
 * `resumed` (or a reconnect) settles them. Visitors never receive internal notes, so their seqs
 * skip those numbers: such a skip looks like a gap, the resume brings nothing, and `resumed`
 * moves the position past the note. */
export class Positions {
  private at = new Map<number, number>();
  private ahead = new Map<number, Set<number>>();
  /** Conversations with a gap-resume in flight. */
  private asked = new Set<number>();

  constructor(private contiguous: boolean) {}

  get(conv: number): number | undefined {
    return this.at.get(conv);
  }

  has(conv: number): boolean {
    return this.at.has(conv);
  }

  /** Everything up to `seq` is accounted for (an HTTP snapshot, the server's `resumed`). */
  known(conv: number, seq: number): void {
    if (seq <= (this.at.get(conv) ?? -1)) return;
    this.at.set(conv, seq);
    this.drain(conv);
  }

  /** The server's `resumed` for these conversations: the asked resume is answered. */
  resumed(conversations: Record<string, number>): void {
    for (const [id, seq] of Object.entries(conversations)) {
      this.asked.delete(Number(id));
      this.known(Number(id), seq);
    }
  }

  /** One message arrived (live, catch-up or history page). True when it left a gap below it. */
  received(conv: number, seq: number): boolean {
    const pos = this.at.get(conv);
    if (!this.contiguous || pos === undefined || seq === pos + 1) {
      this.known(conv, seq);
      return false;
    }
    if (seq <= pos) return false;
    let set = this.ahead.get(conv);
    if (!set) this.ahead.set(conv, (set = new Set()));
    set.add(seq);
    return true;
  }

  /** A `resume` frame for the conversations with a gap not yet asked about, or null. The
   * caller sends it; `resumed` (or `disconnected`) ends the wait. */
  gap(conv: number): { type: "resume"; conversations: Record<string, number> } | null {
    const pos = this.at.get(conv);
    if (pos === undefined || !this.ahead.has(conv) || this.asked.has(conv)) return null;
    this.asked.add(conv);
    return { type: "resume", conversations: { [String(conv)]: pos } };
  }

  /** The socket closed: the next `resume` (after `welcome`) covers every gap again. */
  disconnected(): void {
    this.asked.clear();
  }

  forget(conv: number): void {
    this.at.delete(conv);
    this.ahead.delete(conv);
    this.asked.delete(conv);
  }

  /** The `resume` frame's map for these conversations, in order of importance, at most
   * MAX_RESUME (the server's limit); conversations without a position are left out. */
  resume(order: Iterable<number>): Record<string, number> {
    const out: Record<string, number> = {};
    let n = 0;
    for (const id of order) {
      if (n >= MAX_RESUME) break;
      const pos = this.at.get(id);
      if (pos === undefined || String(id) in out) continue;
      out[String(id)] = pos;
      n++;
    }
    return out;
  }

  private drain(conv: number): void {
    const set = this.ahead.get(conv);
    if (!set) return;
    let pos = this.at.get(conv)!;
    while (set.has(pos + 1)) set.delete(++pos);
    this.at.set(conv, pos);
    for (const s of set) if (s <= pos) set.delete(s);
    if (!set.size) this.ahead.delete(conv);
  }
}
