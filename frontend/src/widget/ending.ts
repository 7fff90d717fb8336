// The end of a chat as the visitor sees it (docs/lifecycle.md): who has the chat (the header),
// that it ended and how it is rated, the transcript to keep.
import type { ConversationInfo } from "../shared/protocol";
import type { ChatHost } from "./chatState";
import type { VisitorApi } from "./visitorApi";

export class Ending {
  /** The visitor asked to end the shown chat; the server's answer (the conversation, ended)
   * is on its way. */
  asked = false;

  constructor(
    private host: ChatHost,
    private api: VisitorApi,
  ) {}

  /** Who has the chat (header), whether it ended and was rated, from the conversation's info. */
  update(c: ConversationInfo): void {
    const s = this.host.state;
    const agent = c.agent as { name?: string; avatar?: string | null } | null | undefined;
    if (agent && agent.name) {
      s.agentName = agent.name;
      s.agentAvatar = agent.avatar || null;
    }
    const ended = c.ended as { by?: string; scale?: string } | null | undefined;
    s.ended =
      c.status === "resolved" && ended
        ? { by: ended.by || "agent", scale: ended.scale === "thumbs" ? "thumbs" : "stars" }
        : null;
    s.rated = Boolean(c.rated);
    if (typeof c.channel === "string") s.byEmail = c.channel === "email";
    if (c.status === "open") this.asked = false; // written into again: reopened
    this.host.changed();
  }

  /** The visitor ends the chat (after confirming): the server resolves it, every tab of the
   * visitor hears of it, the agent reads "The visitor ended the chat", the rating follows. */
  end(): void {
    const s = this.host.state;
    const conv = s.conversationId;
    if (conv === null || s.ended || this.asked) return;
    this.asked = true;
    this.host.control({ type: "end_chat", conversation_id: conv });
    this.host.changed();
  }

  /** The visitor rates the ended chat (1-5; thumbs: 1 or 5) with an optional comment. */
  rate(score: number, comment: string): void {
    const s = this.host.state;
    const conv = s.conversationId;
    if (conv === null || !s.ended || s.rated) return;
    this.host.control({ type: "rate", conversation_id: conv, score, comment: comment.slice(0, 2000) });
    s.rated = true;
    this.host.changed();
  }

  /** The chat as plain text (what the visitor saw), for the transcript download. */
  transcript(names: { you: string; agent: string }): string {
    return this.host.state.messages
      .filter((m) => m.seq !== null)
      .map((m) => {
        const who = m.author.kind === "visitor" ? names.you : m.author.name || names.agent;
        return `[${m.createdAt || ""}] ${who}: ${m.body}`;
      })
      .join("\n");
  }

  /** At the end of a chat: its transcript by email (visitorApi.ts). */
  async mailTranscript(email: string): Promise<{ to: string | null; error: string | null }> {
    const conv = this.host.state.conversationId;
    if (conv === null || !this.api.signedIn()) return { to: null, error: "no_conversation" };
    return this.api.mailTranscript(conv, email);
  }

  /** The address a transcript would go to without one typed (left earlier, or the contact's),
   * to prefill the form; null when none is known. */
  async knownAddress(): Promise<string | null> {
    const conv = this.host.state.conversationId;
    if (conv === null || !this.api.signedIn()) return null;
    return this.api.transcriptAddress(conv);
  }
}
