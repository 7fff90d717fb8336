// The agent WebSocket: fresh ticket on every (re)connect, backoff, ping/pong.
import { api, ApiError } from "./api";
import type { Frame } from "./types";

export type SocketState = "connecting" | "online" | "offline";

export interface SocketHooks {
  onFrame(frame: Frame): void;
  onState(state: SocketState): void;
  onAuthLost(): void;
}

export class AgentSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: number | undefined;
  private stopped = false;

  constructor(private hooks: SocketHooks) {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, "logout");
    this.ws = null;
  }

  /** Drop the current socket and reconnect now (used by tests and the "reconnect" button). */
  reconnect(): void {
    if (this.ws) this.ws.close(4000, "reconnect");
  }

  get open(): boolean {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: Frame): boolean {
    if (!this.open) return false;
    this.ws!.send(JSON.stringify(frame));
    return true;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.hooks.onState("connecting");
    let ticket: string;
    try {
      ticket = (await api<{ ticket: string }>("POST", "/api/auth/ws-ticket")).ticket;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return this.hooks.onAuthLost();
      return this.retry();
    }
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws/agent?ticket=${encodeURIComponent(ticket)}`);
    this.ws = ws;
    ws.onmessage = (ev) => {
      let frame: Frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (frame.type === "ping") {
        this.send({ type: "pong" });
        return;
      }
      if (frame.type === "welcome") {
        this.attempt = 0;
        this.hooks.onState("online");
      }
      this.hooks.onFrame(frame);
    };
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null;
      this.retry();
    };
  }

  private retry(): void {
    if (this.stopped) return;
    this.hooks.onState("offline");
    const delay = Math.min(10000, 300 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt = Math.min(this.attempt + 1, 6);
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.connect(), delay);
  }
}
