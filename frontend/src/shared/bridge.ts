// Messages between the loader (host page) and the widget frame (Tresen origin), sent with
// postMessage and an exact targetOrigin. Both sides check event.origin and event.source.
export const BRIDGE_TAG = "tresen";

export type Device = "desktop" | "mobile" | "tablet";

export interface PageInfo {
  url: string;
  title: string;
  referrer?: string;
  device?: Device;
  language?: string;
  utm?: Record<string, string>;
  /** The host page's tab has the focus (visible and focused). */
  focused?: boolean;
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
  // Focus entered a form (its id or name) or left every form (null). Never field values.
  | { tresen: 1; type: "form"; form: string | null }
  // The host page's tab gained or lost the focus: the radar counts focused time per page.
  | { tresen: 1; type: "focus"; focused: boolean }
  | { tresen: 1; type: "restore"; local: string | null; session: string | null }
  // Co-browsing: the recorder in the host page -> the frame's socket (see src/cobrowse/types.ts).
  | { tresen: 1; type: "cobrowse"; data: { op: string; [k: string]: unknown } };

export type FrameState = "closed" | "open";
/** While closed, room for an invitation beside the launcher: a bubble, or a one-line chip. */
export type InviteSize = "bubble" | "chip";

/** Frame -> loader. */
export type FrameToHost =
  | { tresen: 1; type: "ready" }
  | { tresen: 1; type: "state"; state: FrameState; unread: number; invite?: InviteSize }
  | { tresen: 1; type: "event"; name: string; data?: unknown }
  // Only when the browser blocks storage in third-party frames: the loader keeps the frame's
  // state in the host page's storage and hands it back ("restore") when the frame loads.
  | { tresen: 1; type: "persist"; local?: string; session?: string }
  // Co-browsing: the frame -> the recorder in the host page (see src/cobrowse/types.ts).
  | { tresen: 1; type: "cobrowse"; data: { op: string; [k: string]: unknown } };

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

/** Custom event properties made JSON-safe and small: at most 20 keys, strings cut at 500
 * characters, nested values kept only when their JSON is under 1000 characters. */
export function safeProps(props: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!props || typeof props !== "object") return out;
  let n = 0;
  for (const k of Object.keys(props)) {
    if (n >= 20) break;
    let v = (props as Record<string, unknown>)[k];
    const t = typeof v;
    if (t === "string") v = (v as string).slice(0, 500);
    else if (t === "number") v = isFinite(v as number) ? v : null;
    else if (t !== "boolean" && v !== null) {
      try {
        const j = JSON.stringify(v);
        if (!j || j.length > 1000) continue;
        v = JSON.parse(j);
      } catch {
        continue;
      }
    }
    out[k.slice(0, 100)] = v;
    n++;
  }
  return out;
}
