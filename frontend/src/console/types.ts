// View types for the console. Wire frames come from shared/protocol.ts (which mirrors
// src/tresen/realtime/protocol.py); HTTP shapes are here.
import type { Outgoing } from "../shared/client";
import type { MessageData, RadarVisitor } from "../shared/protocol";
import { t } from "./i18n";

export type { Author, RadarVisitor } from "../shared/protocol";

export interface Agent {
  id: number;
  username: string;
  display_name: string;
  role: string;
  skills: string[];
  max_chats: number;
  status: string;
  is_active: boolean;
  /** The agent's picture (docs/lifecycle.md), or null: initials are shown. */
  avatar_url?: string | null;
  site_ids?: number[];
  team_ids?: number[];
}

export interface SiteBrief {
  id: number;
  name: string;
}

export interface Team {
  id: number;
  name: string;
  member_ids: number[];
}

/** A stored message (HTTP history and `message` frames, without the frame's `type`). */
export type Msg = MessageData;

/** A send waiting for its ack (the shared outbox's entry). */
export type Pending = Outgoing;

export interface Preview {
  seq: number;
  body: string;
  author_kind: string;
  internal: boolean;
  created_at: string;
}

export interface VisitorBrief {
  id: number;
  name: string | null;
  email: string | null;
  external_id: string | null;
}

export interface Conv {
  id: number;
  status: string;
  last_seq: number;
  assignee_id: number | null;
  created_at: string;
  updated_at: string;
  site_id: number;
  visitor_id: number;
  channel: string;
  skill: string | null;
  visitor_read_seq: number;
  agent_read_seq: number;
  department?: string | null;
  priority?: number;
  queued_at?: string | null;
  offered_to?: number | null;
  meta?: ConvMeta;
  visitor?: VisitorBrief | null;
  last_message?: Preview | null;
  unread: number;
  tags?: string[];
  snoozed_until?: string | null;
}

export interface ConvMeta {
  overflow_choice?: string;
  reply_to?: string;
  callback?: { phone: string; when?: string };
  bot?: boolean;
  [k: string]: unknown;
}

export interface RuleAction {
  type: "invite" | "message" | "bot";
  text: Record<string, string>;
  skill?: string | null;
  auto_open?: boolean;
  agent_name?: string | null;
  agent_photo?: string | null;
  bot?: string;
}

export interface Rule {
  id: number;
  site_id: number | null;
  name: string;
  priority: number;
  enabled: boolean;
  when: Record<string, unknown>;
  action: RuleAction;
  control?: number;
  goal?: { event?: string; url?: string };
}

export interface RuleTest {
  holds: boolean;
  behaviour: boolean;
  resources: boolean;
  blocked?: boolean;
  blocked_until: number | null;
}

export interface Overview {
  queues: { skill: string | null; waiting: number; longest_wait_seconds: number }[];
  /** Chats the lifecycle timers marked: a visitor waiting for a reply, or silent. */
  highlighted?: { conversation_id: number; agent_id: number | null; flag: "waiting" | "silent"; since: string | null }[];
  agents: {
    id: number;
    name: string;
    status: string;
    skills: string[];
    load: number;
    max_chats: number;
    email_load: number; // email conversations held, counted apart from chats
    takes_email: boolean; // false: chat only
  }[];
  waiting: {
    conversation_id: number;
    visitor_id: number;
    skill: string | null;
    department?: string | null;
    priority: number;
    position: number;
    waiting_seconds: number;
  }[];
  // Email work per skill: items nobody holds (oldest age) and those being answered.
  email_backlog: { skill: string | null; backlog: number; oldest_seconds: number; assigned: number }[];
}

export interface PastConv {
  id: number;
  status: string;
  created_at: string;
  updated_at: string;
  last_message: Preview | null;
}

export interface VisitorCtx extends VisitorBrief {
  site_id: number;
  site_name: string | null;
  verified: boolean;
  attributes: Record<string, unknown>;
  created_at: string;
  last_seen_at: string;
  current_page: string | null;
  pages: { url: string; title?: string; referrer?: string; at?: string }[];
  time_on_site_seconds?: number | null;
  live?: RadarVisitor | null;
  conversations: PastConv[];
  contact_id?: number | null;
}

export interface Site {
  id: number;
  name: string;
  widget_key: string;
  allowed_origins: string[];
  identity_secret: string;
  embed_snippet: string;
}

export function visitorName(v: VisitorBrief | null | undefined, id?: number): string {
  if (v && v.name) return v.name;
  if (v && v.email) return v.email;
  return t("inbox.visitorN", { id: v ? v.id : id ?? "?" });
}
