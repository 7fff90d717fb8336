// Messages between the widget frame and the co-browse recorder in the host page (carried by the
// loader as bridge messages {tresen: 1, type: "cobrowse", data}).

/** Frame -> host page. */
export type CbToHost =
  | { op: "start"; session: number; control: boolean; autoFollow: boolean; agent: string | null; lang?: string }
  | { op: "state"; session: number; control: boolean; autoFollow: boolean; lang?: string }
  | { op: "stop"; session?: number }
  | { op: "snapshot" }
  | { op: "command"; command: CbCommand };

/** Host page -> frame. */
export type CbToFrame =
  | { op: "events"; session: number; events: unknown[]; url: string }
  | { op: "stop"; session: number }
  | { op: "control"; session: number; granted: boolean }
  | { op: "resume"; session: number }
  | { op: "code" };

export interface CbCommand {
  session_id: number;
  action: "pointer" | "navigate" | "fill" | "click" | "scroll" | "type" | "request_control" | "snapshot";
  node?: number | null;
  url?: string | null;
  value?: string | null;
  x?: number | null;
  y?: number | null;
  escort?: boolean;
  agent_name?: string | null;
}

/** Elements never serialised at all (rrweb blockSelector): private fields and our own UI. */
export const BLOCK_SELECTOR =
  "[data-tresen-private], input[type=password], [autocomplete^=cc-], [data-tresen-cb]";
export const ALLOW_ATTR = "data-tresen-allow";
/** Over this, a full snapshot is not sent; the agent is told the page is too large. */
export const SNAPSHOT_CAP = 2 * 1024 * 1024 - 4096;
export const TOO_LARGE_TAG = "tresen_too_large";
