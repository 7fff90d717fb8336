// The chat UI, loaded on demand by the frame's core (core.ts) into the same frame: its Chat
// takes over the core's socket (wire.ts) with the frames that came before it, and it renders
// the panel, invitations and co-browsing consent.
import { render } from "preact";
import "./frame.css";
import { App } from "./app";
import { Chat } from "./chat";
import { CobrowseLink } from "./CobrowseLink";
import { CORE_KEY, type Core } from "./handoff";
import { STRINGS } from "./i18n";

const core = (window as unknown as Record<string, Core>)[CORE_KEY];
const chat = new Chat(core.wire, core.local);
const t = STRINGS[core.lang];
let bound: ((open: boolean, focus: boolean) => void) | null = null;
let wanted: [boolean, boolean] | null = core.open ? [true, core.focus] : null;
// The App listens to the Chat (onChange, onInvite, ...) from its first effects, which Preact runs
// after a paint (or a timer): the Chat starts, and gives out the frames held for it (an offer,
// a message), only once the App listens, or the App would never hear of them.
let listening: () => void = () => {};
const appListens = new Promise<void>((resolve) => (listening = resolve));

function setOpen(open: boolean, focus: boolean): void {
  if (bound) bound(open, focus);
  else wanted = [open, focus];
}

const cobrowse = new CobrowseLink(
  chat,
  (data) => core.toHost({ tresen: 1, type: "cobrowse", data }),
  () => setOpen(true, false),
);

function rerender(): void {
  render(
    <App
      chat={chat}
      t={t}
      maxChars={core.cfg.maxChars || 8192}
      topics={core.cfg.topics || []}
      initiallyOpen={false}
      onState={core.onState}
      bindOpen={(fn) => {
        bound = fn;
        // After the App's first effects (which settle the closed state it starts in).
        const w = wanted;
        wanted = null;
        if (w) setTimeout(() => fn(...w));
        listening();
      }}
      narrow={core.narrow}
    />,
    core.root,
  );
}

rerender();
core.mounted(chat, { setOpen, cobrowse: (d) => cobrowse.fromHost(d as never), rerender });
for (const m of core.hostEarly.splice(0)) if (m.type === "cobrowse") cobrowse.fromHost(m.data as never);
core.started = Promise.all([core.settled.catch(() => undefined), appListens]).then(() =>
  chat.start(core.first?.identity, core.first?.invite),
);
