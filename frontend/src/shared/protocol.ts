// Wire frames of the WebSocket protocol (src/tresen/realtime/protocol.py), as the browser sees them.
export interface Author {
  kind: "visitor" | "agent" | "system" | "bot";
  id?: number | null;
  name?: string | null;
}

export interface MessageFrame {
  type: "message";
  conversation_id: number;
  seq: number;
  id: number;
  author: Author;
  body: string;
  internal?: boolean;
  client_msg_id?: string | null;
  created_at: string;
}

export interface AckFrame {
  type: "ack";
  client_msg_id: string;
  conversation_id: number;
  seq: number;
  id: number;
  duplicate?: boolean;
}

export interface ConversationInfo {
  id: number;
  status: string;
  last_seq: number;
  assignee_id?: number | null;
  [key: string]: unknown;
}

export interface OfferFrame {
  type: "offer";
  offer_id: number;
  kind: "invite" | "message" | "bot";
  text: string;
  auto_open?: boolean;
  quiet?: boolean;
  agent_name?: string | null;
  agent_photo?: string | null;
}

export interface QueueFrame {
  type: "queue";
  conversation_id: number;
  position: number;
  estimated_wait_seconds: number | null;
}

export interface OverflowFrame {
  type: "overflow";
  conversation_id: number;
  reason: "nobody_online" | "long_wait";
  estimated_wait_seconds: number | null;
  options: string[];
}

export type QueueChoice = "wait" | "message" | "callback" | "bot" | "leave";

export type ServerFrame =
  | { type: "welcome"; node: string; principal: Record<string, unknown>; heartbeat_seconds: number; max_message_chars: number }
  | MessageFrame
  | AckFrame
  | { type: "conversation"; conversation: ConversationInfo }
  | { type: "typing"; conversation_id: number; author: Author; is_typing: boolean }
  | { type: "read"; conversation_id: number; reader: "visitor" | "agent"; seq: number }
  | { type: "resumed"; conversations: Record<string, number> }
  | { type: "error"; code: string; message: string; ref?: string | null }
  | OfferFrame
  | QueueFrame
  | OverflowFrame
  | { type: "ping" }
  | { type: "pong" };

/** Reconnect delay: exponential from 500 ms to 15 s, with jitter so a restart is not a stampede. */
export function backoff(attempt: number, base = 500, cap = 15000): number {
  const d = Math.min(cap, base * 2 ** Math.min(attempt, 10));
  return Math.round(d * (0.5 + Math.random() * 0.5));
}

export function newClientMsgId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const b = new Uint8Array(16);
  c?.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
