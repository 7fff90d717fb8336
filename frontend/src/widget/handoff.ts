// What the frame's core (core.ts: session, socket, tracking, launcher) hands to the chat UI
// (index.tsx, loaded on demand) when the UI's script has run: the one Chat, with its socket, and
// whatever arrived for the UI before it was there. The UI bundle imports only types from here.
import type { FrameToHost, HostToFrame, IdentityInput, InviteSize, Lang } from "../shared/bridge";
import type { Chat } from "./chat";
import type { Slot } from "./storage";
import type { Wire } from "./wire";

export interface FrameConfig {
  site: string;
  parentOrigin: string;
  lang: string;
  page?: string;
  maxChars: number;
  topics?: string[];
  /** A chat link from an email: the session request redeems it (visitors/invites.py). */
  invite?: string;
  /** Open the panel at once (the link asked for a chat). */
  open?: boolean;
  /** The chat UI's files (content-hashed), loaded on demand. */
  ui?: { js: string; css: string };
}

/** The UI's side, given to the core when it mounts. */
export interface UiApi {
  setOpen(open: boolean, focus: boolean): void;
  /** A co-browsing message from the loader in the host page. */
  cobrowse(data: { op: string; [k: string]: unknown }): void;
  rerender(): void;
}

export interface Core {
  cfg: FrameConfig;
  lang: Lang;
  root: HTMLElement;
  /** The socket (and tracking) the core opened or will open; the Chat takes it over. */
  wire: Wire;
  /** The frame's storage: the visitor's state (local) and the tab's (session). */
  local: Slot;
  narrow(): boolean;
  /** The panel is to be open when the UI appears (the visitor clicked, or it was open). */
  open: boolean;
  /** ... and takes the keyboard focus (the visitor clicked or pressed the launcher). */
  focus: boolean;
  /** The core's session requests (one at a time): the Chat starts after them. */
  settled: Promise<unknown>;
  /** The Chat's start (its first session request), set by the UI: identify() waits for it. */
  started: Promise<unknown>;
  /** What the Chat's first session request carries when the core made none (an email's chat
   * link, a panel open since the last page: the UI was wanted at once). */
  first: { identity?: IdentityInput; invite?: string } | null;
  toHost(msg: FrameToHost): void;
  onState(open: boolean, unread: number, invite?: InviteSize): void;
  /** Co-browsing messages from the host page that came before the UI. */
  hostEarly: HostToFrame[];
  /** The UI's Chat and its side, once there. */
  mounted(chat: Chat, ui: UiApi): void;
}

export const CORE_KEY = "__tresenCore";
