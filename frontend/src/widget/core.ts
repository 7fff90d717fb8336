// The chat frame's core, the only script the frame runs before the visitor does anything (inlined
// into the frame's HTML): the session, opened on the one visitor socket's handshake (page views, tracking, invitations for Web Radar), storage and
// a launcher drawn with the DOM. The chat UI (index.tsx: Preact, the panel, co-browsing consent,
// frame.css) is fetched only when needed: the visitor opens the chat (or points at the launcher),
// an invitation or a message arrives, an open conversation is resumed, an agent asks to
// co-browse, or the page has been idle a while. The UI then drives this same Chat and socket.
import { backoff } from "../shared/client";
import type { ServerFrame } from "../shared/protocol";
import {
  FrameToHost,
  HostToFrame,
  IdentityInput,
  InviteSize,
  isBridgeMessage,
  pickLang,
} from "../shared/bridge";
import type { Chat } from "./chat";
import { readStored } from "./chatState";
import { CORE_KEY, type Core, type FrameConfig, type UiApi } from "./handoff";
import { Launcher } from "./launcher";
import { Restored, Slot, openSlots } from "./storage";
import { type SessionReply, Wire, type WireSink, postSession, tabId } from "./wire";

/** After this long on a page, the UI is fetched in idle time (cached for a year after that). */
export const IDLE_PRELOAD_MS = 30_000;

const root = document.getElementById("tresen-root") as HTMLElement;
const cfg = JSON.parse(root.dataset.config || "{}") as FrameConfig;
const lang = pickLang(cfg.lang);
document.documentElement.lang = lang;
const embedded = window.parent !== window;

let narrow = window.innerWidth <= 480 && !embedded;
let core: Core | null = null;
let wire: Wire | null = null;
let chat: Chat | null = null;
let ui: UiApi | null = null;
let uiRequested = false;
let launcher: Launcher | null = null;
let openSlot: Slot | null = null;
const early: HostToFrame[] = [];
let gotRestore: (r: Restored | null) => void = () => {};
const restored = new Promise<Restored | null>((resolve) => {
  gotRestore = resolve;
  setTimeout(() => resolve(null), embedded ? 2000 : 0);
});

function toHost(msg: FrameToHost): void {
  // Only the page that embedded us, on the origin the server checked against the allowlist.
  if (embedded) window.parent.postMessage(msg, cfg.parentOrigin);
}

function onState(open: boolean, unread: number, invite?: InviteSize): void {
  openSlot?.set(open ? "1" : "0");
  toHost({ tresen: 1, type: "state", state: open ? "open" : "closed", unread, invite });
}

/** Fetch the chat UI (once); `open` asks for the panel to be open (with the focus in it). */
function loadUi(open = false, focus = false): void {
  if (!core) return;
  if (open) {
    core.open = true;
    core.focus = core.focus || focus;
    ui?.setOpen(true, focus);
  }
  if (ui || uiRequested || !cfg.ui) return;
  uiRequested = true;
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = cfg.ui.css;
  const js = document.createElement("script");
  js.src = cfg.ui.js;
  // A failed fetch (network gone): let the next trigger try again.
  js.onerror = () => {
    uiRequested = false;
    css.remove();
    js.remove();
  };
  document.head.appendChild(css);
  document.head.appendChild(js);
}

/** Frames that mean the visitor is to see something: the UI comes for them. */
function wanted(f: ServerFrame, tab: string): boolean {
  switch (f.type) {
    case "offer":
      return !f.tab || f.tab === tab;
    case "message":
    case "conversation":
    case "queue":
    case "overflow":
      return true;
    default:
      return f.type.startsWith("cobrowse");
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The core's session request (the Chat makes its own once it is there). */
async function session(w: Wire, local: Slot, identity?: IdentityInput): Promise<SessionReply> {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await postSession(cfg.site, w.token, identity, undefined);
      if (!r.ok) throw new Error(`session ${r.status}`);
      const data = (await r.json()) as SessionReply;
      w.token = data.token;
      w.session = data;
      if (!chat) local.set(JSON.stringify({ ...readStored(local), token: data.token }));
      return data;
    } catch {
      await sleep(backoff(attempt));
    }
  }
}

function identify(identity: IdentityInput): void {
  if (!core || !wire) return;
  if (chat) {
    const c = chat;
    void core.started.then(() => c.identify(identity));
    return;
  }
  if (core.first) {
    core.first.identity = identity; // the Chat's first session request carries it
    return;
  }
  const w = wire;
  const local = core.local;
  core.settled = core.settled.then(async () => {
    const before = w.token;
    await session(w, local, identity);
    // Another visitor now (a known customer): their socket. The chat UI may have come
    // meanwhile, but its Chat starts only after this (core.settled), on this same socket.
    if (w.token !== before && w.started) w.link.reconnectNow();
  });
}

function handle(msg: HostToFrame): void {
  if (!wire) {
    early.push(msg);
    return;
  }
  switch (msg.type) {
    case "open":
      loadUi(true, true);
      break;
    case "close":
      if (core) core.open = false;
      ui?.setOpen(false, false);
      break;
    case "identify":
      if (msg.identity && typeof msg.identity.id === "string") identify(msg.identity);
      break;
    case "track":
      // Tresen.track(name, props) on the host page: a custom event for the radar.
      if (typeof msg.name === "string" && msg.name) wire.tracking.event(msg.name, msg.props);
      break;
    case "form":
      wire.tracking.formFocus(typeof msg.form === "string" ? msg.form : null);
      break;
    case "focus":
      wire.tracking.focus(msg.focused !== false);
      break;
    case "cobrowse":
      // The recorder in the host page (a support code, a session resumed after navigating):
      // the consent and relay live in the UI.
      if (!msg.data || typeof msg.data.op !== "string") break;
      if (ui) ui.cobrowse(msg.data);
      else {
        core?.hostEarly.push(msg);
        loadUi();
      }
      break;
    case "page":
      if (msg.page && typeof msg.page.url === "string") wire.tracking.pageView(msg.page);
      if (narrow !== Boolean(msg.narrow)) {
        narrow = Boolean(msg.narrow);
        ui?.rerender();
      }
      break;
  }
}

window.addEventListener("message", (ev: MessageEvent) => {
  if (ev.source !== window.parent || ev.origin !== cfg.parentOrigin || !isBridgeMessage(ev.data)) return;
  const msg = ev.data as HostToFrame;
  if (msg.type === "restore") {
    const str = (v: unknown) => (typeof v === "string" ? v : null);
    gotRestore({ local: str(msg.local), session: str(msg.session) });
  } else handle(msg);
});

async function boot(): Promise<void> {
  toHost({ tresen: 1, type: "ready" });
  const slots = await openSlots(`tresen:${cfg.site}`, restored, (which, value) =>
    toHost({ tresen: 1, type: "persist", [which]: value }),
  );
  openSlot = slots.session;
  const local = slots.local;
  const stored = readStored(local);
  // The session is opened on the socket's handshake (`session=1`): no request before it. The
  // first `welcome` brings the token and the visitor's conversations; after that the socket
  // reconnects with the token alone, unless the token was refused.
  let gotSession: () => void = () => {};
  let opened: (reply: SessionReply) => void = () => {};
  const sessionOpened = new Promise<void>((resolve) => (gotSession = resolve));
  const w: Wire = new Wire(cfg.site, tabId(), {
    url: async (): Promise<string | null> => w.url(w.token, !w.session || !w.token),
    frame: (f) => {
      if (f.type === "welcome") {
        if (f.session) {
          const first = !w.session;
          w.session = f.session;
          w.token = w.opened = f.session.token;
          if (!chat) local.set(JSON.stringify({ ...readStored(local), token: f.session.token }));
          if (first) {
            opened(f.session);
            gotSession();
          }
        }
        w.tracking.flush();
        return;
      }
      w.hold(f);
      if (wanted(f, w.tab)) loadUi();
    },
    down: (code) => {
      if (code === 4401) w.token = null; // stale token: a fresh session before reconnecting
    },
  } satisfies WireSink);
  w.token = stored.token || null;
  wire = w;
  const c: Core = (core = {
    cfg,
    lang,
    root,
    wire: w,
    local,
    narrow: () => narrow,
    open: false,
    focus: false,
    settled: Promise.resolve(),
    started: Promise.resolve(),
    first: null,
    toHost,
    onState,
    hostEarly: [],
    mounted(theChat: Chat, api: UiApi): void {
      chat = theChat;
      ui = api;
      launcher?.remove();
      launcher = null;
    },
  });
  (window as unknown as Record<string, unknown>)[CORE_KEY] = c;
  // An identify() made before the chat started goes into the first session request: run
  // separately, the anonymous start could finish last and replace the verified visitor.
  const first = early.splice(0);
  const ident = first.filter((m) => m.type === "identify" && m.identity && typeof m.identity.id === "string").pop();
  const identity = ident && ident.type === "identify" ? ident.identity : undefined;
  // Re-opening after a navigation restores the visitor's own choice within this tab; a new
  // visit always starts with the launcher only. The panel never opens by itself. An email's
  // chat link, or messages not yet sent: the UI at once, and its Chat makes the session.
  const reopen = slots.session.get() === "1" || Boolean(cfg.open);
  if (reopen || cfg.invite || (stored.pending && stored.pending.length)) {
    c.first = { identity, invite: cfg.invite || undefined };
    loadUi(reopen, false);
  }
  if (!ui) {
    launcher = new Launcher(lang, () => loadUi(true, true), () => loadUi());
    launcher.update(stored.unread || 0);
    if (stored.unread) onState(false, stored.unread);
  }
  first.filter((m) => m.type !== "identify").forEach(handle);
  if (stored.invite) loadUi();
  // A conversation still going on (resumed after a navigation or a reload): show it.
  opened = (reply: SessionReply): void => {
    const ids = reply.conversations.map((x) => x.id);
    const conv = stored.conv != null && ids.includes(stored.conv) ? stored.conv : Math.max(-1, ...ids);
    const info = reply.conversations.find((x) => x.id === conv);
    if (info && info.status === "open") loadUi();
  };
  if (!c.first && identity) {
    // identify() before the start: its signed identity goes by POST (docs/widget.md).
    c.settled = session(w, local, identity).then((reply) => {
      opened(reply);
      w.start();
    });
  } else if (!c.first || (!c.first.identity && !c.first.invite)) {
    // The socket opens the session; a Chat wanted at once takes it from the `welcome`.
    c.settled = sessionOpened;
    w.start();
  }
  const idle = (window as { requestIdleCallback?: (fn: () => void) => void }).requestIdleCallback;
  window.setTimeout(() => (idle ? idle(() => loadUi()) : loadUi()), IDLE_PRELOAD_MS);
}

void boot();
