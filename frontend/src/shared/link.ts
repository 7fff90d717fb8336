// One WebSocket to the server that keeps itself up: connect, answer `ping`, reconnect with
// backoff after any close (soon after a restart close, 1012: at a random moment within a short
// window, so the sockets of a node that stops do not all hit the others at once). Widget and
// console differ only in where the URL comes from (a visitor token, an agent ticket) and what
// they do with frames.
import { backoff } from "./client";
import type { ServerFrame } from "./protocol";

/** connecting: a socket is being opened; online: `welcome` arrived; offline: waiting to retry. */
export type LinkState = "connecting" | "online" | "offline";

/** Close codes of a server going away (docs/protocol.md): 1012 "service restart" (a rolling
 * restart, a deploy) and 1001 "going away". Reconnect within the restart spread, no backoff. */
export const RESTART_CODES = new Set([1001, 1012]);

export interface LinkHooks {
  /** Where to connect now. `retrying` after a lost socket (not on start or reconnectNow).
   * null: do not connect (e.g. the agent's login is gone); a throw: try again after backoff. */
  url(retrying: boolean): Promise<string | null>;
  frame(f: ServerFrame): void;
  state(s: LinkState): void;
  /** The socket is gone (close code; 1000 when we dropped it ourselves): nothing is in flight. */
  down(code: number): void;
}

export class Link {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: number | undefined;
  private stopped = false;
  /** Bumped by every connect: a slower, older attempt gives way to the newest. */
  private generation = 0;

  /** `restartSpreadMs`: the window a reconnect after a restart close is spread over. */
  constructor(
    private hooks: LinkHooks,
    private restartSpreadMs = 2000,
  ) {}

  start(): void {
    this.stopped = false;
    void this.connect(false);
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.drop();
  }

  /** Drop the socket and connect again at once (a new visitor token; the console's button). */
  reconnectNow(): void {
    window.clearTimeout(this.timer);
    this.drop();
    this.attempt = 0;
    if (!this.stopped) void this.connect(false);
  }

  get open(): boolean {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  /** Send now; false when the socket is not open (the caller keeps what must not be lost). */
  send(frame: object): boolean {
    if (!this.open) return false;
    this.ws!.send(JSON.stringify(frame));
    return true;
  }

  private drop(): void {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null; // its onclose is then ignored
    ws.close(1000);
    this.hooks.down(1000);
  }

  private async connect(retrying: boolean): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.hooks.state("connecting");
    let url: string | null;
    try {
      url = await this.hooks.url(retrying);
    } catch {
      if (generation === this.generation) this.retry();
      return;
    }
    if (url === null || this.stopped || generation !== this.generation) return;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      let f: ServerFrame;
      try {
        f = JSON.parse(String(ev.data)) as ServerFrame;
      } catch {
        return; // a malformed frame is ignored
      }
      if (f.type === "ping") {
        this.send({ type: "pong" });
        return;
      }
      if (f.type === "welcome") {
        this.attempt = 0;
        this.hooks.state("online");
      }
      this.hooks.frame(f);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.hooks.down(ev.code);
      if (RESTART_CODES.has(ev.code)) {
        // The node is restarting: another one (or this one, back) takes us, after a random
        // wait within the spread (every client of the node gets the close at the same moment).
        // Should that first try fail, the usual backoff follows from its start.
        this.attempt = 0;
        this.hooks.state("offline");
        window.clearTimeout(this.timer);
        this.timer = window.setTimeout(() => void this.connect(true), Math.random() * this.restartSpreadMs);
        return;
      }
      this.retry();
    };
  }

  private retry(): void {
    if (this.stopped) return;
    this.hooks.state("offline");
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.connect(true), backoff(this.attempt++));
  }
}
