// "Anna is typing…" both ways, and read receipts both ways: the visitor's read marker goes out
// while the panel is visible, the agent's comes in as "Read" under the visitor's messages.
import type { Positions } from "../shared/client";
import type { Author } from "../shared/protocol";
import type { ChatHost } from "./chatState";

export class TypingRead {
  private readSent = 0;
  private typingSentAt = 0;
  private typingTimer = 0;
  private agentTypingTimer = 0;

  constructor(
    private host: ChatHost,
    private positions: Positions,
  ) {}

  /** Another conversation is shown: nothing of it was marked read yet. */
  reset(): void {
    this.readSent = 0;
  }

  /** The visitor types (`on`) or stopped: told at most every 3 s, "stopped" after 4 s idle. */
  typing(on: boolean): void {
    const s = this.host.state;
    const conv = s.conversationId;
    if (conv === null || !s.connected) return;
    clearTimeout(this.typingTimer);
    const now = Date.now();
    if (on) {
      if (now - this.typingSentAt > 3000) {
        this.typingSentAt = now;
        this.host.raw({ type: "typing", conversation_id: conv, is_typing: true });
      }
      this.typingTimer = window.setTimeout(() => this.typing(false), 4000);
    } else if (this.typingSentAt) {
      this.typingSentAt = 0;
      this.host.raw({ type: "typing", conversation_id: conv, is_typing: false });
    }
  }

  onTyping(f: { conversation_id: number; author: Author; is_typing: boolean }): void {
    const s = this.host.state;
    if (f.author.kind === "visitor" || f.conversation_id !== s.conversationId) return;
    s.agentTyping = f.is_typing ? f.author.name || "" : null;
    clearTimeout(this.agentTypingTimer);
    if (f.is_typing)
      this.agentTypingTimer = window.setTimeout(() => {
        this.host.state.agentTyping = null;
        this.host.changed();
      }, 8000);
    this.host.changed();
  }

  onRead(f: { conversation_id: number; reader: string; seq: number }): void {
    const s = this.host.state;
    if (f.reader !== "agent" || f.conversation_id !== s.conversationId) return;
    s.agentReadSeq = Math.max(s.agentReadSeq, f.seq);
    this.host.changed();
  }

  /** Tell the server what the visitor has seen (the panel visible, the page in front). */
  markRead(): void {
    const s = this.host.state;
    const conv = s.conversationId;
    if (!this.host.visible || document.hidden || conv === null || !s.connected) return;
    const seq = this.positions.get(conv) ?? 0;
    if (seq > this.readSent) {
      this.readSent = seq;
      this.host.raw({ type: "read", conversation_id: conv, seq });
    }
  }
}
