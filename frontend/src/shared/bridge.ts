// Messages between the loader (host page) and the widget frame (Tresen origin), sent with
// postMessage and an exact targetOrigin. Both sides check event.origin and event.source.
export const BRIDGE_TAG = "tresen";

export interface PageInfo {
  url: string;
  title: string;
  referrer?: string;
}

export interface IdentityInput {
  id: string;
  hash?: string;
  name?: string;
  email?: string;
  attributes?: Record<string, unknown>;
}

/** Loader -> frame. */
export type HostToFrame =
  | { tresen: 1; type: "open" }
  | { tresen: 1; type: "close" }
  | { tresen: 1; type: "identify"; identity: IdentityInput }
  | { tresen: 1; type: "track"; name: string; props: Record<string, unknown> }
  | { tresen: 1; type: "page"; page: PageInfo; narrow: boolean }
  | { tresen: 1; type: "restore"; local: string | null; session: string | null };

export type FrameState = "closed" | "open";

/** Frame -> loader. */
export type FrameToHost =
  | { tresen: 1; type: "ready" }
  | { tresen: 1; type: "state"; state: FrameState; unread: number }
  | { tresen: 1; type: "event"; name: string; data?: unknown }
  // Only when the browser blocks storage in third-party frames: the loader keeps the frame's
  // state in the host page's storage and hands it back ("restore") when the frame loads.
  | { tresen: 1; type: "persist"; local?: string; session?: string };

export function isBridgeMessage(data: unknown): data is { tresen: 1; type: string } {
  return (
    typeof data === "object" &&
    data !== null &&
    (data as { tresen?: unknown }).tresen === 1 &&
    typeof (data as { type?: unknown }).type === "string"
  );
}

export type Lang = "en" | "de" | "da";

/** de/da/en from an explicit choice, the page's <html lang> or the browser. */
export function pickLang(...candidates: (string | null | undefined)[]): Lang {
  for (const c of candidates) {
    const l = (c || "").toLowerCase().slice(0, 2);
    if (l === "de" || l === "da" || l === "en") return l;
  }
  return "en";
}
