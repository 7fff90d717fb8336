// A visitor waiting for an agent: the place in the queue, the other ways offered when the wait is
// long or nobody is online (leave a message, a callback, the bot, leave), and the bot's hand-over
// to a person (docs/routing.md, docs/bot.md).
import type { OverflowFrame, QueueChoice, QueueFrame } from "../shared/protocol";
import type { ChatHost, ChatState, QueueInfo } from "./chatState";

export class Waiting {
  /** Given in the offline form: when the new chat overflows, leave the message for email. */
  offlineEmail: string | null = null;
  /** The callback number the server refused (bad_phone), shown again to be corrected. */
  badPhone: string | null = null;
  private lastOverflow: ChatState["overflow"] = null;
  private triedPhone: string | null = null;
  /** The last queue place the server told per conversation (it repeats only changes). */
  private told = new Map<number, QueueInfo>();
  /** Conversations the bot handed over: the bot is not offered again. */
  private handedOver = new Set<number>();

  constructor(private host: ChatHost) {}

  onQueue(f: QueueFrame): void {
    const s = this.host.state;
    if (s.conversationId === null) this.host.adopt(f.conversation_id);
    if (f.conversation_id !== s.conversationId) return;
    s.queue = { conv: f.conversation_id, position: f.position, wait: f.estimated_wait_seconds };
    this.told.set(f.conversation_id, s.queue);
    s.joinedAt = null;
    this.host.save();
    this.host.changed();
  }

  onOverflow(f: OverflowFrame): void {
    const s = this.host.state;
    if (s.conversationId === null) this.host.adopt(f.conversation_id);
    if (f.conversation_id !== s.conversationId) return;
    if (!s.queue) s.queue = { conv: f.conversation_id, position: 1, wait: f.estimated_wait_seconds };
    if (this.offlineEmail) {
      // The visitor already left an address in the offline form: that was the choice.
      this.choose("message", { email: this.offlineEmail });
      this.offlineEmail = null;
      return;
    }
    s.overflow = {
      conv: f.conversation_id,
      reason: f.reason,
      wait: f.estimated_wait_seconds,
      options: this.handedOver.has(f.conversation_id) ? f.options.filter((o) => o !== "bot") : f.options,
    };
    this.host.save();
    this.host.changed();
  }

  /** What a waiting visitor chose after an overflow (or to keep waiting). */
  choose(choice: QueueChoice, details: Record<string, string> = {}): void {
    const s = this.host.state;
    const conv = s.conversationId;
    if (conv === null) return;
    this.lastOverflow = s.overflow;
    this.triedPhone = details.phone ?? null;
    this.badPhone = null;
    const frame: Record<string, unknown> = { type: "queue_choice", conversation_id: conv, choice };
    for (const [k, v] of Object.entries(details)) if (v.trim()) frame[k] = v.trim();
    this.host.control(frame);
    s.overflow = null;
    if (choice !== "wait") s.queue = null;
    if (choice === "message") s.byEmail = true; // answered by email now: no "End chat"
    this.host.save();
    this.host.changed();
  }

  /** An error frame without a ref: true when it was about the callback number. */
  refused(code: string): boolean {
    if (code !== "bad_phone" || !this.lastOverflow) return false;
    // the callback was refused: the choices come back, with the number to correct
    this.host.state.overflow = this.lastOverflow;
    this.badPhone = this.triedPhone ?? "";
    this.host.changed();
    return true;
  }

  /** "Talk to a person": the bot hands the conversation to the queue, with all that was said. */
  handover(): void {
    const s = this.host.state;
    const conv = s.conversationId;
    if (conv === null || !s.bot) return;
    this.host.control({ type: "handover", conversation_id: conv });
    s.bot = false;
    this.handedOver.add(conv);
    // The server repeats a queue place only when it changes: show the last one meanwhile.
    s.queue = this.told.get(conv) || { conv, position: 1, wait: null };
    this.host.save();
    this.host.changed();
  }
}
