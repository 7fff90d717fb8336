// Wire frames of the WebSocket protocol (src/tresen/realtime/protocol.py, docs/protocol.md), as
// the browser sees them. Widget and console both type their sockets with these unions.
export interface Author {
  kind: "visitor" | "agent" | "system" | "bot";
  id?: number | null;
  name?: string | null;
}

/** A file sent with a message (docs/attachments.md). */
export interface Attachment {
  key: string;
  name: string;
  type: string;
  size: number;
}

/** A stored message, as `message` frames and the HTTP history carry it. */
export interface MessageData {
  conversation_id: number;
  seq: number;
  id: number;
  author: Author;
  body: string;
  internal: boolean;
  client_msg_id: string | null;
  created_at: string;
  attachments?: Attachment[];
}

export interface MessageFrame extends Omit<MessageData, "internal" | "client_msg_id"> {
  type: "message";
  internal?: boolean;
  client_msg_id?: string | null;
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
  /** Shown only by the widget in this browser tab (the focused one); absent: any. */
  tab?: string | null;
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

/** A visitor on the site now (the radar's snapshot of one visitor; times in epoch seconds). */
export interface RadarVisitor {
  id: number;
  site_id: number;
  url: string;
  title: string;
  page_started_at: number;
  site_started_at: number;
  pages_viewed: number;
  device: string | null;
  language: string | null;
  returning: boolean;
  segment: string | null;
  referrer: string | null;
  chatting: boolean;
  invited: boolean;
  offers_today: number;
  /** The visit across pages and tabs (docs/rules.md, "Visits"). */
  tabs?: number;
  visit_id?: number | null;
  entry_url?: string;
  /** Summed focused time of the visit's pages when the snapshot was taken (`at`). */
  time_on_site?: number;
  focused?: boolean;
  at?: number;
  pages?: { url: string; title: string; at: number; seconds: number }[];
}

/** Live visitors changed (only to consoles that sent `subscribe` for the "visitors" view):
 * one full snapshot per changed visitor, and the ids of those who left. */
export interface RadarFrame {
  type: "radar";
  visitors: RadarVisitor[];
  gone: number[];
}

/** The radar frame of servers before the batch (one visitor each). Read only so a new console
 * keeps working against an old server during an upgrade; remove once every node sends batches. */
export interface LegacyRadarFrame {
  type: "radar";
  visitor: Partial<RadarVisitor> & { id: number };
  gone?: boolean;
}

export type CobrowseStatus = "requested" | "active" | "declined" | "ended";

export interface CobrowseFrame {
  type: "cobrowse";
  session_id: number;
  conversation_id: number;
  status: CobrowseStatus;
  control?: boolean;
  auto_follow?: boolean;
  agent_name?: string | null;
  by?: "visitor" | "agent" | "system" | null;
}

export interface CobrowseEventsFrame {
  type: "cobrowse_events";
  session_id: number;
  events: unknown[];
  url?: string;
}

/** What an agent asks of the visitor's page (client frame; the visitor receives it with
 * `agent_name`). */
export interface CobrowseCommand {
  node?: number | null;
  url?: string | null;
  value?: string | null;
  x?: number | null;
  y?: number | null;
  escort?: boolean;
}

export interface CobrowseCommandFrame extends CobrowseCommand {
  type: "cobrowse_command";
  session_id: number;
  action: string;
  agent_name?: string | null;
}

export interface CobrowseNoticeFrame {
  type: "cobrowse_notice";
  session_id: number;
  code: "dropped" | "refused" | "snapshot_needed" | string;
  message: string;
  /** `dropped`: the page the batch came from, and whether it held that page's full snapshot. */
  url?: string | null;
  snapshot?: boolean;
}

export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
  ref?: string | null;
}

/** How an agent's message fared on its channel (email): consoles only (docs/protocol.md). */
export interface DeliveryFrame {
  type: "delivery";
  conversation_id: number;
  message_id: number;
  seq: number;
  channel: string;
  state: "retry" | "sent" | "failed" | "skipped" | "delivered" | "read";
  attempts: number;
  error?: string | null;
}

/** A visitor's session: `POST /api/visitor/session`'s answer, or a `welcome`'s `session`. */
export interface SessionReply {
  token: string;
  conversations: ConversationInfo[];
  invited_conversation?: number | null;
  whatsapp?: boolean;
  uploads?: boolean;
}

export type ServerFrame =
  | {
      type: "welcome";
      node: string;
      principal: Record<string, unknown>;
      heartbeat_seconds: number;
      max_message_chars: number;
      /** A visitor socket opened with `session=1`: the session opened on the handshake. */
      session?: SessionReply;
    }
  | MessageFrame
  | AckFrame
  | { type: "conversation"; conversation: ConversationInfo; created?: boolean }
  | { type: "typing"; conversation_id: number; author: Author; is_typing: boolean }
  | { type: "read"; conversation_id: number; reader: "visitor" | "agent"; seq: number }
  | { type: "resumed"; conversations: Record<string, number> }
  | DeliveryFrame
  | ErrorFrame
  | OfferFrame
  | QueueFrame
  | OverflowFrame
  | RadarFrame
  | LegacyRadarFrame
  | CobrowseFrame
  | CobrowseEventsFrame
  | CobrowseCommandFrame
  | CobrowseNoticeFrame
  | { type: "cobrowse_code"; code: string; expires_in: number }
  | { type: "tags"; conversation_id: number; tags: string[] }
  | { type: "callback"; callback: Record<string, unknown>; due: boolean }
  | { type: "ping" }
  | { type: "pong" };

/** Live views a console can subscribe to (`subscribe` / `unsubscribe`). */
export type View = "visitors";

/** Frames the console sends (the widget builds its own, see widget/chat.ts). */
export type AgentFrame =
  | { type: "send"; client_msg_id: string; body: string; conversation_id: number; internal?: boolean; attachments?: string[] }
  | { type: "resume"; conversations: Record<string, number> }
  | { type: "typing"; conversation_id: number; is_typing: boolean }
  | { type: "read"; conversation_id: number; seq: number }
  | { type: "watch"; conversation_id: number; seq?: number }
  | { type: "unwatch"; conversation_id: number }
  | { type: "subscribe"; view: View }
  | { type: "unsubscribe"; view: View }
  | { type: "cobrowse_request"; conversation_id: number }
  | { type: "cobrowse_stop"; session_id: number }
  | { type: "cobrowse_watch"; session_id: number }
  | ({ type: "cobrowse_command"; session_id: number; action: string } & CobrowseCommand)
  | { type: "ping" }
  | { type: "pong" };

/** Agent frames an older server does not know: it answers `unknown_type`, which is harmless
 * (it still sends everything to every console), so the console does not show that error. */
export const OPTIONAL_AGENT_FRAMES = ["watch", "unwatch", "subscribe", "unsubscribe"] as const;

export function isOptionalFrameRefusal(f: ErrorFrame): boolean {
  if (f.code !== "unknown_type") return false;
  // The server names the type it refused ("unknown frame type 'watch'"); there is no `ref`.
  return OPTIONAL_AGENT_FRAMES.some((t) => f.message.includes(`'${t}'`));
}
