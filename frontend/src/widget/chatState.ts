// What the widget shows and keeps across reloads: the chat's view state and its stored form.
import type { Attachment, Author } from "../shared/protocol";

export interface ChatMessage {
  key: string;
  seq: number | null;
  author: Author;
  body: string;
  createdAt: string | null;
  clientMsgId: string | null;
  pending: boolean;
  failed: boolean;
  attachments?: Attachment[];
}

/** An invitation (offer kind invite or bot) waiting for the visitor's answer. */
export interface Invite {
  id: number;
  kind: "invite" | "message" | "bot";
  text: string;
  agentName: string | null;
  agentPhoto: string | null;
  quiet: boolean;
  autoOpen: boolean;
  at: number;
  /** The browser tab it is shown in (another tab of the visitor leaves it alone). */
  tab?: string | null;
}

export interface QueueInfo {
  conv: number;
  position: number;
  wait: number | null;
}

export interface OverflowInfo {
  conv: number;
  reason: "nobody_online" | "long_wait";
  wait: number | null;
  options: string[];
}

export interface ChatState {
  ready: boolean;
  connected: boolean;
  everConnected: boolean;
  conversationId: number | null;
  messages: ChatMessage[];
  agentTyping: string | null;
  agentReadSeq: number;
  agentName: string | null;
  agentsOnline: boolean | null;
  unread: number;
  /** An open invitation, shown beside the launcher. */
  invite: Invite | null;
  /** Offers of kind "message" (e.g. a working promo code), shown in the log by time. */
  notes: ChatMessage[];
  queue: QueueInfo | null;
  overflow: OverflowInfo | null;
  /** When an agent took the chat after the visitor had waited (ISO time), for a note. */
  joinedAt: string | null;
  /** The FAQ bot has the conversation: offer "Talk to a person" (docs/bot.md). */
  bot: boolean;
  /** The picture of the agent who has the chat (docs/lifecycle.md), if they have one. */
  agentAvatar: string | null;
  /** The chat ended: the end notice, a rating, the transcript, "start a new chat". */
  ended: { by: string; scale: "stars" | "thumbs" } | null;
  rated: boolean;
  /** The conversation goes on by email (a message left): it is not a chat to end. */
  byEmail: boolean;
  /** The site has a WhatsApp number: offer to continue the chat there (docs/channels.md). */
  whatsapp: boolean;
  /** The site lets visitors attach files (docs/attachments.md). */
  uploads: boolean;
  /** The wa.me link (with a signed reference to this conversation) and its QR code (SVG). */
  waLink: { url: string; qr: string } | null;
}

export function initialState(): ChatState {
  return {
    ready: false,
    connected: false,
    everConnected: false,
    conversationId: null,
    messages: [],
    agentTyping: null,
    agentReadSeq: 0,
    agentName: null,
    agentsOnline: null,
    unread: 0,
    invite: null,
    notes: [],
    queue: null,
    overflow: null,
    joinedAt: null,
    bot: false,
    agentAvatar: null,
    ended: null,
    rated: false,
    byEmail: false,
    whatsapp: false,
    uploads: false,
    waLink: null,
  };
}

/** Show conversation `conv` (or none: a new chat): what belonged to the last one goes, except the
 * visitor's messages not yet sent. */
export function showConversation(s: ChatState, conv: number | null): void {
  s.conversationId = conv;
  s.messages = s.messages.filter((m) => m.pending || m.failed);
  s.agentReadSeq = 0;
  s.agentName = null;
  s.agentAvatar = null;
  s.ended = null;
  s.rated = false;
  s.byEmail = false;
  s.queue = null;
  s.overflow = null;
  s.joinedAt = null;
  s.bot = false;
}

/** An unacknowledged send as it is stored (the outbox's entries, without their transport state). */
export interface StoredPending {
  cmid: string;
  body: string;
}

/** The slot's JSON (widget/storage.ts). Keep old fields readable: a reload after an upgrade
 * must still find the visitor's token and unsent messages. */
export interface Stored {
  token?: string;
  conv?: number | null;
  pending?: StoredPending[];
  unread?: number;
  invite?: Invite | null;
  notes?: ChatMessage[];
  seen?: number[];
  queue?: QueueInfo | null;
  overflow?: OverflowInfo | null;
}

/** The slot's stored state ({} when there is none or it does not parse). */
export function readStored(slot: { get(): string | null }): Stored {
  try {
    return JSON.parse(slot.get() || "{}") as Stored;
  } catch {
    return {};
  }
}

/** The visitor's own message as shown before the server has it. */
export function localEcho(cmid: string, body: string, attachments?: Attachment[]): ChatMessage {
  return {
    attachments,
    key: `c${cmid}`,
    seq: null,
    author: { kind: "visitor" },
    body,
    createdAt: null,
    clientMsgId: cmid,
    pending: true,
    failed: false,
  };
}

export function bySeq(a: ChatMessage, b: ChatMessage): number {
  if (a.seq === null || b.seq === null) return a.seq === b.seq ? 0 : a.seq === null ? 1 : -1;
  return a.seq - b.seq;
}

/** What the Chat's parts (offers.ts, waiting.ts, typingRead.ts, ending.ts) use of it. */
export interface ChatHost {
  readonly state: ChatState;
  /** Is the panel visible to the visitor? */
  readonly visible: boolean;
  /** A control frame (sent now, or once connected). */
  control(frame: Record<string, unknown>): void;
  /** A frame now if connected (dropped otherwise). */
  raw(frame: Record<string, unknown>): void;
  /** The first news of a conversation while none is shown: show it. */
  adopt(conv: number): void;
  save(): void;
  changed(): void;
}
