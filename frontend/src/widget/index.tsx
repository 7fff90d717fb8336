// The chat frame: served from the Tresen origin inside the loader's iframe.
import { render } from "preact";
import "./frame.css";
import { FrameToHost, HostToFrame, InviteSize, isBridgeMessage, pickLang } from "../shared/bridge";
import { App } from "./app";
import { Chat } from "./chat";
import { CobrowseLink } from "./CobrowseLink";
import { STRINGS } from "./i18n";
import { Restored, Slot, openSlots } from "./storage";

interface Config {
  site: string;
  parentOrigin: string;
  lang: string;
  page: string;
  maxChars: number;
  topics?: string[];
  /** A chat link from an email: the session request redeems it (visitors/invites.py). */
  invite?: string;
  /** Open the panel at once (the link asked for a chat). */
  open?: boolean;
}

const root = document.getElementById("tresen-root") as HTMLElement;
const cfg = JSON.parse(root.dataset.config || "{}") as Config;
const lang = pickLang(cfg.lang);
const t = STRINGS[lang];
document.documentElement.lang = lang;
const embedded = window.parent !== window;

let narrow = window.innerWidth <= 480 && !embedded;
let setOpen: (open: boolean, focus: boolean) => void = () => {};
let chat: Chat | null = null;
let cobrowse: CobrowseLink | null = null;
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

function handle(msg: HostToFrame): void {
  if (!chat) {
    early.push(msg);
    return;
  }
  switch (msg.type) {
    case "open":
      setOpen(true, true);
      break;
    case "close":
      setOpen(false, false);
      break;
    case "identify":
      if (msg.identity && typeof msg.identity.id === "string") void chat.identify(msg.identity);
      break;
    case "track":
      // Tresen.track(name, props) on the host page: a custom event for the radar.
      if (typeof msg.name === "string" && msg.name) chat.trackEvent(msg.name, msg.props);
      break;
    case "form":
      chat.trackForm(typeof msg.form === "string" ? msg.form : null);
      break;
    case "focus":
      chat.trackFocus(msg.focused !== false);
      break;
    case "cobrowse":
      if (msg.data && typeof msg.data.op === "string") cobrowse?.fromHost(msg.data as never);
      break;
    case "page":
      if (msg.page && typeof msg.page.url === "string") chat.trackPage(msg.page);
      if (narrow !== Boolean(msg.narrow)) {
        narrow = Boolean(msg.narrow);
        rerender();
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

function onState(open: boolean, unread: number, invite?: InviteSize): void {
  openSlot?.set(open ? "1" : "0");
  toHost({ tresen: 1, type: "state", state: open ? "open" : "closed", unread, invite });
}

let initiallyOpen = false;

function rerender(): void {
  if (!chat) return;
  render(
    <App
      chat={chat}
      t={t}
      maxChars={cfg.maxChars || 8192}
      topics={cfg.topics || []}
      initiallyOpen={initiallyOpen}
      onState={onState}
      bindOpen={(fn) => (setOpen = fn)}
      narrow={() => narrow}
    />,
    root,
  );
}

async function boot(): Promise<void> {
  toHost({ tresen: 1, type: "ready" });
  const slots = await openSlots(`tresen:${cfg.site}`, restored, (which, value) =>
    toHost({ tresen: 1, type: "persist", [which]: value }),
  );
  openSlot = slots.session;
  // Re-opening after a navigation restores the visitor's own choice within this tab; a new
  // visit always starts with the launcher only. The panel never opens by itself.
  initiallyOpen = slots.session.get() === "1" || Boolean(cfg.open);
  chat = new Chat(cfg.site, slots.local);
  cobrowse = new CobrowseLink(
    chat,
    (data) => toHost({ tresen: 1, type: "cobrowse", data }),
    () => setOpen(true, false),
  );
  rerender();
  // An identify() made before the chat started goes into the first session request: run
  // separately, the anonymous start could finish last and replace the verified visitor.
  const first = early.splice(0);
  const ident = first.filter((m) => m.type === "identify" && m.identity && typeof m.identity.id === "string").pop();
  first.filter((m) => m.type !== "identify").forEach(handle);
  await chat.start(ident && ident.type === "identify" ? ident.identity : undefined, cfg.invite || undefined);
}

void boot();
