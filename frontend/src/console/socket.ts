// The agent WebSocket: a fresh ticket on every (re)connect; the shared link (shared/link.ts)
// does the rest (backoff, ping/pong).
import { Link, type LinkHooks, type LinkState } from "../shared/link";
import { api, ApiError } from "./api";

export type SocketState = LinkState;

/** `authLost`: the ticket was refused with 401, the login is gone; the link stops trying. */
export function agentLink(hooks: Omit<LinkHooks, "url"> & { authLost(): void }): Link {
  return new Link({
    ...hooks,
    url: async () => {
      let ticket: string;
      try {
        ticket = (await api<{ ticket: string }>("POST", "/api/auth/ws-ticket")).ticket;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
          hooks.authLost();
          return null;
        }
        throw e;
      }
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      return `${proto}//${location.host}/ws/agent?ticket=${encodeURIComponent(ticket)}`;
    },
  });
}
