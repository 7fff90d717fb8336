// Web Radar's offers as the visitor gets them: an invitation (beside the launcher, answered yes
// or no) and a message offer (a note in the log, counted as accepted once seen).
import type { OfferFrame } from "../shared/protocol";
import type { ChatHost, ChatMessage, Invite, Stored } from "./chatState";

const INVITE_TTL = 110_000; // the server counts an unanswered invitation as ignored at 120 s

export class Offers {
  /** Message offers already counted as seen (kept across reloads). */
  seen = new Set<number>();
  /** Set when the visitor said yes: the next conversation that arrives is the invitation's. */
  expectingConv = false;
  onInvite: (invite: Invite) => void = () => {};
  onNote: (m: ChatMessage) => void = () => {};

  constructor(
    private host: ChatHost,
    private tab: string,
  ) {}

  /** What the last page showed: an invitation still fresh in this tab, the last notes. */
  restore(stored: Stored): void {
    const s = this.host.state;
    const inv = stored.invite;
    const mine = inv && (!inv.tab || inv.tab === this.tab);
    s.invite = inv && mine && Date.now() - inv.at < INVITE_TTL ? inv : null;
    s.notes = (stored.notes || []).slice(-5);
    this.seen = new Set(stored.seen || []);
  }

  onOffer(f: OfferFrame): void {
    if (f.tab && f.tab !== this.tab) return; // another tab of this visitor shows it
    const s = this.host.state;
    const at = Date.now();
    if (f.kind === "message") {
      if (s.notes.some((n) => n.key === `o${f.offer_id}`)) return;
      const note: ChatMessage = {
        key: `o${f.offer_id}`,
        seq: null,
        author: { kind: "bot", name: f.agent_name || null },
        body: f.text,
        createdAt: new Date(at).toISOString(),
        clientMsgId: null,
        pending: false,
        failed: false,
      };
      s.notes = [...s.notes, note].slice(-5);
      if (!this.host.visible) s.unread++;
      this.host.save();
      this.onNote(note);
      this.markSeen();
      this.host.changed();
      return;
    }
    const invite: Invite = {
      id: f.offer_id,
      kind: f.kind,
      text: f.text,
      agentName: f.agent_name || null,
      agentPhoto: f.agent_photo || null,
      quiet: Boolean(f.quiet),
      autoOpen: Boolean(f.auto_open),
      at,
      tab: f.tab || null,
    };
    s.invite = invite;
    this.host.save();
    this.host.changed();
    this.onInvite(invite);
  }

  /** The visitor said yes or no to the invitation. Yes opens a new conversation. */
  answer(accepted: boolean): void {
    const inv = this.host.state.invite;
    if (!inv) return;
    this.host.state.invite = null;
    this.host.control({ type: "offer_reply", offer_id: inv.id, outcome: accepted ? "accepted" : "dismissed" });
    this.expectingConv = accepted;
    this.host.save();
    this.host.changed();
  }

  /** Message offers the visitor has now seen count as accepted. */
  markSeen(): void {
    if (!this.host.visible) return;
    for (const n of this.host.state.notes) {
      const id = Number(n.key.slice(1));
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      this.host.control({ type: "offer_reply", offer_id: id, outcome: "accepted" });
    }
    this.host.save();
  }
}
