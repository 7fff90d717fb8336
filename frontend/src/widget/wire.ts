// The visitor's one socket and its session, opened by the frame's core before the chat UI
// exists, and handed to the UI's Chat when it comes (attach): frames that arrived in between
// are held and given to it, so nothing is lost, and the socket is never opened twice.
import type { IdentityInput } from "../shared/bridge";
import { Link } from "../shared/link";
import type { ServerFrame, SessionReply } from "../shared/protocol";
import { Tracking } from "./tracking";

export type { SessionReply };

/** POST /api/visitor/session: the visitor (new, or the token's) and its conversations. The
 * widget opens its session on the socket (`Wire.url` with `session`); this is for identify()
 * and an email's chat link. */
export async function postSession(
  site: string,
  token: string | null,
  identity: IdentityInput | undefined,
  invite: string | undefined,
): Promise<Response> {
  return fetch("/api/visitor/session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ site_key: site, token, identity: identity || null, invite: invite || null }),
  });
}

/** Who handles the socket now: the core until the UI's Chat attaches. */
export interface WireSink {
  url(retrying: boolean): Promise<string | null>;
  frame(f: ServerFrame): void;
  down(code: number): void;
}

const MAX_HELD = 500;
/** After a restart close, visitors come back at a random moment within this window (ms): a
 * node's thousands of visitor sockets reach the other nodes spread over it. */
export const RESTART_SPREAD_MS = 5000;

export class Wire {
  readonly link: Link;
  readonly tracking: Tracking;
  /** `welcome` came on the current socket. */
  connected = false;
  started = false;
  /** The visitor's token (the core's session, then the Chat's). */
  token: string | null = null;
  /** The session the socket's handshake opened (the core's first `welcome`), for the Chat. */
  session: SessionReply | null = null;
  /** The token the current socket was opened with (the `welcome`'s, for a new visitor). */
  opened: string | null = null;
  private held: ServerFrame[] = [];
  private sink: WireSink;

  constructor(
    readonly site: string,
    readonly tab: string,
    first: WireSink,
  ) {
    this.sink = first;
    this.link = new Link({
      url: (retrying) => this.sink.url(retrying),
      frame: (f) => {
        if (f.type === "welcome") this.connected = true;
        this.sink.frame(f);
      },
      state: () => {},
      down: (code) => {
        this.connected = false;
        this.sink.down(code);
      },
    }, RESTART_SPREAD_MS);
    this.tracking = new Tracking((f) => this.connected && this.link.send(f));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.link.start();
  }

  /** Before a Chat attaches: keep a frame for it (the oldest go first past a bound). */
  hold(f: ServerFrame): void {
    if (this.held.push(f) > MAX_HELD) this.held.shift();
  }

  /** The Chat takes the socket over; returns what it has not seen yet, in order. */
  attach(sink: WireSink): ServerFrame[] {
    this.sink = sink;
    return this.held.splice(0);
  }

  /** `session`: open the visitor's session on the handshake (a new visitor when `token` is
   * null or stale); the `welcome` then carries it. */
  url(token: string | null, session = false): string {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const q = new URLSearchParams({ site: this.site });
    if (session) q.set("session", "1");
    if (token) q.set("token", token);
    q.set("tab", this.tab);
    this.opened = token;
    return `${proto}//${location.host}/ws/visitor?${q}`;
  }
}

/** The id of this browser tab, kept in the frame's per-tab storage (a fresh one per page load
 * when the browser blocks storage in third-party frames). */
export function tabId(): string {
  const fresh = Math.random().toString(36).slice(2, 12);
  try {
    const id = window.sessionStorage.getItem("tresen:tab") || fresh;
    window.sessionStorage.setItem("tresen:tab", id);
    return id;
  } catch {
    return fresh;
  }
}
