// The visitor's HTTP calls besides the session (which stays with the Chat, chat.ts): history,
// files, the knowledge base, the WhatsApp hand-off, the transcript by email, who is online. Each
// carries the visitor token of the moment (the Chat's, renewed by a new session).
import type { Attachment, MessageFrame } from "../shared/protocol";

export class VisitorApi {
  private fileUrls = new Map<string, Promise<string | null>>();

  constructor(
    private site: string,
    private token: () => string | null,
  ) {}

  /** Has the visitor a session (a token)? */
  signedIn(): boolean {
    return Boolean(this.token());
  }

  private auth(): Record<string, string> {
    return { Authorization: `Bearer ${this.token()}` };
  }

  /** The conversation's last 100 messages, oldest first; null when refused. */
  async history(conv: number): Promise<MessageFrame[] | null> {
    const q = new URLSearchParams({ site_key: this.site, limit: "100" });
    const r = await fetch(`/api/visitor/conversations/${conv}/messages?${q}`, { headers: this.auth() });
    return r.ok ? ((await r.json()) as MessageFrame[]) : null;
  }

  /** The site's knowledge base (docs/assist.md): search, read, "this answered my question". */
  async kb<T>(path: string, params: Record<string, string>, method = "GET"): Promise<T | null> {
    if (!this.token()) return null;
    const q = new URLSearchParams({ site_key: this.site, ...params });
    const r = await fetch(`/api/visitor/kb${path}?${q}`, { method, headers: this.auth() });
    return r.ok ? ((await r.json()) as T) : null;
  }

  /** A file of the conversation as a local blob: URL, fetched with the visitor token (the file
   * is served to this visitor only, never by a shareable link). */
  fileUrl(key: string): Promise<string | null> {
    let url = this.fileUrls.get(key);
    if (!url) {
      const q = new URLSearchParams({ site_key: this.site });
      url = fetch(`/api/visitor/files/${encodeURIComponent(key)}?${q}`, { headers: this.auth() })
        .then(async (r) => (r.ok ? URL.createObjectURL(await r.blob()) : null))
        .catch(() => null);
      url.then((u) => u === null && this.fileUrls.delete(key));
      this.fileUrls.set(key, url);
    }
    return url;
  }

  /** Upload a file into conversation `conv` (the site must allow it); the error's message
   * says why it was refused. */
  async uploadFile(conv: number, file: File): Promise<Attachment> {
    const q = new URLSearchParams({ site_key: this.site, conversation_id: String(conv), name: file.name || "file" });
    const r = await fetch(`/api/visitor/files?${q}`, {
      method: "POST",
      headers: { ...this.auth(), "Content-Type": file.type || "application/octet-stream" },
      body: file,
    });
    const data = await r.json().catch(() => null);
    if (!r.ok) throw new Error((data && data.message) || `upload ${r.status}`);
    return data as Attachment;
  }

  /** Continue on WhatsApp: a wa.me link whose prefilled text names this conversation (signed),
   * so the WhatsApp message that follows continues it with its history. */
  async whatsappLink(conv: number, text: string): Promise<{ url: string; qr: string } | null> {
    const r = await fetch("/api/visitor/whatsapp-link", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...this.auth() },
      body: JSON.stringify({ site_key: this.site, conversation_id: conv, text }),
    });
    if (!r.ok) return null;
    const data = (await r.json()) as { url: string; qr_svg: string };
    return { url: data.url, qr: data.qr_svg };
  }

  /** At the end of a chat: its transcript by email to ``email`` (the server checks the address
   * and how often). Resolves to the (masked) address it goes to, or null with ``error`` set. */
  async mailTranscript(conv: number, email: string): Promise<{ to: string | null; error: string | null }> {
    try {
      const r = await fetch("/api/visitor/transcript-mail", {
        method: "POST",
        headers: { "Content-Type": "application/json", ...this.auth() },
        body: JSON.stringify({ site_key: this.site, conversation_id: conv, email: email.trim() }),
      });
      const data = (await r.json().catch(() => ({}))) as { to?: string; code?: string };
      return r.ok ? { to: data.to ?? email, error: null } : { to: null, error: data.code ?? "failed" };
    } catch {
      return { to: null, error: "network" };
    }
  }

  /** The address the transcript of `conv` goes to when none is typed; null: none known. */
  async transcriptAddress(conv: number): Promise<string | null> {
    try {
      const q = new URLSearchParams({ site_key: this.site, conversation_id: String(conv) });
      const r = await fetch(`/api/visitor/transcript-mail?${q}`, { headers: this.auth() });
      return r.ok ? ((await r.json()) as { email: string | null }).email : null;
    } catch {
      return null;
    }
  }

  /** Is anyone online to chat? null when it could not be asked (keep the last known state). */
  async online(): Promise<boolean | null> {
    try {
      const r = await fetch(`/api/visitor/status?site_key=${encodeURIComponent(this.site)}`);
      return r.ok ? Boolean(((await r.json()) as { online: boolean }).online) : null;
    } catch {
      return null;
    }
  }
}
