// Co-browsing in the widget frame: the consent prompt, the support code, and the relay between
// the recorder in the host page (through the loader's postMessage bridge) and this frame's
// WebSocket. The visitor token never leaves the frame; the host page never talks to the server.
import { render } from "preact";
import "./cobrowse.css";
import { CbStrings, cbStrings } from "../cobrowse/i18n";
import type { CbToFrame, CbToHost } from "../cobrowse/types";
import type { Chat } from "./chat";

type Frame = { type: string; [k: string]: unknown };
interface Prompt {
  session: number;
  agent: string | null;
}

export class CobrowseLink {
  private prompt: Prompt | null = null;
  private code: { code: string; until: number } | null = null;
  private active = 0;
  private mine = new Set<number>();
  private wantCode = false;
  private agent: string | null = null;
  private outbox: Frame[] = [];
  private root: HTMLElement;
  /** The widget's language (index.tsx sets it on <html>), passed to the recorder as well. */
  private lang = document.documentElement.lang || "en";
  private t: CbStrings = cbStrings(this.lang);

  constructor(
    private chat: Chat,
    private toHost: (data: CbToHost) => void,
    private openPanel: () => void,
  ) {
    this.root = document.createElement("div");
    this.root.className = "cb-root";
    document.body.appendChild(this.root);
    chat.onAnyFrame = (f) => this.onFrame(f);
  }

  private send(frame: Frame): void {
    if (!this.chat.sendFrame(frame)) this.outbox.push(frame);
  }

  /** From the recorder in the host page. */
  fromHost(d: CbToFrame): void {
    switch (d.op) {
      case "events":
        if (d.session === this.active && Array.isArray(d.events))
          this.chat.sendFrame({ type: "cobrowse_events", session_id: d.session, events: d.events, url: String(d.url || "").slice(0, 2048) });
        break;
      case "stop":
        this.send({ type: "cobrowse_stop", session_id: d.session });
        this.end();
        break;
      case "control":
        this.send({ type: "cobrowse_control", session_id: d.session, granted: Boolean(d.granted) });
        break;
      case "resume":
        if (typeof d.session === "number") {
          this.mine.add(d.session);
          this.send({ type: "cobrowse_resume", session_id: d.session });
        }
        break;
      case "code":
        this.wantCode = true;
        this.send({ type: "cobrowse_code" });
        break;
    }
  }

  private onFrame(f: Frame): void {
    if (f.type === "welcome") {
      for (const out of this.outbox.splice(0)) this.chat.sendFrame(out);
    } else if (f.type === "cobrowse") this.onState(f);
    else if (f.type === "cobrowse_command" && f.session_id === this.active)
      this.toHost({ op: "command", command: f as never });
    else if (f.type === "cobrowse_notice" && f.code === "snapshot_needed" && f.session_id === this.active)
      this.toHost({ op: "snapshot" });
    else if (f.type === "cobrowse_code" && typeof f.code === "string") {
      this.code = { code: f.code, until: Date.now() + Number(f.expires_in || 1200) * 1000 };
      this.openPanel();
      this.draw();
    } else if (f.type === "error" && f.code === "session_closed" && this.active) this.end();
  }

  private onState(f: Frame): void {
    const session = Number(f.session_id);
    if (typeof f.agent_name === "string") this.agent = f.agent_name;
    if (f.status === "requested") {
      this.prompt = { session, agent: (f.agent_name as string) || null };
      this.openPanel();
    } else if (f.status === "active") {
      if (this.prompt && this.prompt.session === session) this.prompt = null;
      // Only the tab that agreed (or asked for the code, or was sharing before it navigated).
      const viaCode = this.wantCode && f.by === "agent";
      if (viaCode) this.wantCode = false;
      if (viaCode) this.code = null;
      if (this.mine.has(session) || viaCode) {
        this.mine.add(session);
        const first = this.active !== session;
        this.active = session;
        const opts = { session, control: Boolean(f.control), autoFollow: Boolean(f.auto_follow), lang: this.lang };
        this.toHost(first ? { op: "start", agent: this.agent, ...opts } : { op: "state", ...opts });
      }
    } else if (session === this.active || this.prompt?.session === session) {
      if (this.prompt?.session === session) this.prompt = null;
      if (session === this.active) this.end();
      else this.toHost({ op: "stop", session });
    } else if (this.mine.has(session)) this.toHost({ op: "stop", session });
    this.draw();
  }

  private end(): void {
    const session = this.active;
    this.active = 0;
    this.toHost({ op: "stop", session });
    this.draw();
  }

  private answer(accept: boolean, autoFollow: boolean): void {
    const p = this.prompt;
    if (!p) return;
    this.prompt = null;
    if (accept) this.mine.add(p.session);
    this.send({ type: "cobrowse_reply", session_id: p.session, accept, auto_follow: autoFollow });
    this.draw();
  }

  private draw(): void {
    render(<Overlay link={this} t={this.t} prompt={this.prompt} code={this.code} />, this.root);
  }

  /** For the overlay. */
  reply(accept: boolean, autoFollow: boolean): void {
    this.answer(accept, autoFollow);
  }

  closeCode(): void {
    this.code = null;
    this.draw();
  }
}

function Overlay({ link, t, prompt, code }: { link: CobrowseLink; t: CbStrings; prompt: Prompt | null; code: { code: string; until: number } | null }) {
  if (prompt) {
    const follow = () => Boolean((document.querySelector("input[name=auto_follow]") as HTMLInputElement | null)?.checked);
    return (
      <div class="cb-card" role="dialog" aria-label={t.promptLabel} data-testid="cobrowse-prompt">
        <p>
          <strong>{prompt.agent || t.theAgent}</strong> {t.prompt}
        </p>
        <label class="cb-follow">
          <input type="checkbox" name="auto_follow" /> {t.autoFollow}
        </label>
        <div class="cb-actions">
          <button class="cb-yes" data-testid="cobrowse-accept" onClick={() => link.reply(true, follow())}>
            {t.allow}
          </button>
          <button class="cb-no" data-testid="cobrowse-decline" onClick={() => link.reply(false, false)}>
            {t.noThanks}
          </button>
        </div>
      </div>
    );
  }
  if (code) {
    const shown = `${code.code.slice(0, 3)} ${code.code.slice(3)}`;
    return (
      <div class="cb-card" role="dialog" aria-label={t.codeLabel} data-testid="cobrowse-code">
        <p>{t.codeText}</p>
        <p class="cb-code" data-code={code.code}>
          {shown}
        </p>
        <div class="cb-actions">
          <button class="cb-no" onClick={() => link.closeCode()}>
            {t.close}
          </button>
        </div>
      </div>
    );
  }
  return null;
}
