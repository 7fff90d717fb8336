// Channel deliveries of agents' messages (email): loaded when a conversation on another channel
// is opened, then kept current by `delivery` frames. Shown under each message (ChatPane).
import type { DeliveryFrame } from "../shared/protocol";
import { api } from "./api";
import { t, tMaybe } from "./i18n";

export interface Delivery {
  seq: number;
  channel: string;
  status: "pending" | "sending" | "sent" | "failed" | "skipped";
  attempts: number;
  error: string | null;
  next_attempt_at?: string | null;
  receipt?: "delivered" | "read" | null; // messaging platforms report these
}

interface DeliveryRow {
  seq: number;
  channel: string;
  status: Delivery["status"];
  attempts: number;
  error: string | null;
  next_attempt_at: string | null;
  receipt?: Delivery["receipt"];
}

const RANK = { delivered: 1, read: 2 } as const;

export class Deliveries {
  private byConv = new Map<number, Map<number, Delivery>>();
  private loaded = new Set<number>();

  constructor(private changed: () => void) {}

  of(convId: number, seq: number): Delivery | undefined {
    return this.byConv.get(convId)?.get(seq);
  }

  onFrame(f: DeliveryFrame): void {
    const had = this.of(f.conversation_id, f.seq);
    if (f.state === "delivered" || f.state === "read") {
      // a receipt only moves forward (platforms report out of order)
      if (had?.receipt && RANK[had.receipt] >= RANK[f.state]) return;
      const base = had ?? { seq: f.seq, channel: f.channel, status: "sent" as const, attempts: f.attempts, error: null };
      this.put(f.conversation_id, { ...base, receipt: f.state });
      this.changed();
      return;
    }
    const status = f.state === "retry" ? "pending" : f.state;
    this.put(f.conversation_id, { seq: f.seq, channel: f.channel, status, attempts: f.attempts, error: f.error ?? null, receipt: had?.receipt ?? null });
  }

  // Web chats too: a reply a visitor left unread is followed up by email.
  async load(convId: number, _channel: string): Promise<void> {
    if (this.loaded.has(convId)) return;
    this.loaded.add(convId);
    try {
      const rows = await api<DeliveryRow[]>("GET", `/api/conversations/${convId}/deliveries`);
      for (const r of rows) this.put(convId, { ...r }, false);
      this.changed();
    } catch {
      this.loaded.delete(convId);
    }
  }

  private put(convId: number, d: Delivery, newer = true): void {
    let m = this.byConv.get(convId);
    if (!m) this.byConv.set(convId, (m = new Map()));
    const had = m.get(d.seq);
    // A frame is newer than the page loaded before it; the page does not undo a frame.
    if (!newer && had && had.attempts >= d.attempts) return;
    m.set(d.seq, d);
  }
}

export function deliveryText(d: Delivery): string {
  const via = channelLabel(d.channel);
  if (d.status === "sent" && d.receipt === "read") return t("dlv.read", { via });
  if (d.status === "sent" && d.receipt === "delivered") return t("dlv.delivered", { via });
  if (d.status === "sent") return t("dlv.sent", { via });
  if (d.status === "failed") return t("dlv.failed", { via, error: d.error ?? t("dlv.unknownError") });
  if (d.status === "skipped") return t("dlv.skipped", { via });
  const due = d.next_attempt_at ? new Date(d.next_attempt_at) : null;
  if (d.attempts === 0 && due && due.getTime() > Date.now())
    return t("dlv.due", { via, time: due.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) });
  if (d.attempts > 0) return t("dlv.retrying", { via, n: d.attempts, error: d.error ?? "" });
  return t("dlv.sending", { via });
}

const LABELS: Record<string, string> = {
  email: "email",
  whatsapp: "WhatsApp",
  messenger: "Messenger",
  telegram: "Telegram",
  facebook: "Facebook comment",
};

export function channelLabel(channel: string): string {
  return tMaybe(`channel.${channel}`) ?? LABELS[channel] ?? channel;
}
