// The loader a site embeds: <script src=".../widget.js" data-site="KEY" async></script>.
// It runs in the host page, so it stays tiny: it creates the chat iframe (Tresen origin),
// exposes window.Tresen and talks to the frame only by origin-checked postMessage.
import {
  Device,
  FrameToHost,
  HostToFrame,
  IdentityInput,
  InviteSize,
  isBridgeMessage,
  pickLang,
  safeProps,
} from "../shared/bridge";
import { cobrowse } from "./cobrowse";

type Handler = (data?: unknown) => void;
type Call = [string, ...unknown[]];
interface TresenApi {
  open(): void;
  close(): void;
  identify(identity: IdentityInput): void;
  track(name: string, props?: Record<string, unknown>): void;
  supportCode(): void;
  on(event: string, fn: Handler): void;
  version: string;
}

const w = window as unknown as { Tresen?: unknown; __tresenLoaded?: boolean };
const NARROW = 480;
const UTM = ["source", "medium", "campaign", "term", "content"];

/** mobile: a narrow viewport or a phone's user agent; tablet: up to 1024 px with touch. */
function device(): Device {
  const wide = window.innerWidth;
  const ua = navigator.userAgent;
  if (wide <= NARROW || /Mobi|iPhone|iPod|Android.+Mobile|Windows Phone/i.test(ua)) return "mobile";
  const touch = navigator.maxTouchPoints > 0 || "ontouchstart" in window;
  return (wide <= 1024 && touch) || /iPad|Tablet/i.test(ua) ? "tablet" : "desktop";
}

function utm(): Record<string, string> {
  const out: Record<string, string> = {};
  const q = new URLSearchParams(location.search);
  for (const k of UTM) {
    const v = q.get("utm_" + k);
    if (v) out[k] = v.slice(0, 200);
  }
  return out;
}

/** The form holding the focused element, named by its id or name attribute (attributes, not
 * properties: an input called "name" would shadow form.name). Never any field value. */
function formOf(el: Element | null): string | null {
  const f = el && el.closest ? el.closest("form") : null;
  if (!f) return null;
  const name = f.getAttribute("id") || f.getAttribute("name");
  return (name || "form-" + Array.prototype.indexOf.call(document.forms, f)).slice(0, 200);
}

function findScript(): HTMLScriptElement | null {
  const cur = document.currentScript as HTMLScriptElement | null;
  if (cur && cur.dataset.site) return cur;
  const all = document.querySelectorAll<HTMLScriptElement>("script[data-site][src*='widget.js']");
  return all.length ? all[all.length - 1] : null;
}

function start(script: HTMLScriptElement): void {
  const site = script.dataset.site || "";
  const base = new URL(script.src, location.href).origin;
  const lang = pickLang(script.dataset.lang, document.documentElement.lang, navigator.language);
  const handlers: Record<string, Handler[]> = {};
  const outbox: HostToFrame[] = [];
  let ready = false;
  let state: "closed" | "open" = "closed";
  let invite: InviteSize | undefined;

  const frame = document.createElement("iframe");
  // The same URL on every page of the site: the frame's HTML revalidates (ETag) instead of
  // loading again; the page itself is reported by postMessage.
  const q = new URLSearchParams({ site, lang, origin: location.origin });
  if (script.dataset.topics) q.set("topics", script.dataset.topics);
  // A chat link from an email (#tresen-invite=...) or "open the chat" (#tresen-open): handed to
  // the frame once, then taken out of the address bar (a link is a key to one chat).
  const hash = location.hash.match(/^#tresen-(invite=([\w.-]{1,1024})|open)$/);
  if (hash) {
    if (hash[2]) q.set("invite", hash[2]);
    q.set("open", "1");
    history.replaceState(history.state, "", location.pathname + location.search);
  }
  frame.src = `${base}/widget/frame?${q}`;
  frame.title = "Chat";
  frame.setAttribute("allow", "autoplay");
  frame.setAttribute("data-tresen", "frame");
  const narrow = () => window.innerWidth <= NARROW;

  function layout(): void {
    const s = frame.style;
    const open = state === "open";
    const full = open && narrow();
    s.cssText =
      "position:fixed;border:0;background:transparent;color-scheme:normal;z-index:2147483000;" +
      "max-width:100vw;max-height:100vh;display:block;" +
      (full
        ? "inset:0;width:100vw;height:100vh;height:100dvh;"
        : open
          ? "right:0;bottom:0;width:408px;height:min(664px,100vh);"
          : invite === "bubble"
            ? "right:12px;bottom:12px;width:min(340px,100vw - 24px);height:264px;"
            : invite === "chip"
              ? "right:12px;bottom:12px;width:min(340px,100vw - 24px);height:76px;"
              : "right:12px;bottom:12px;width:76px;height:76px;");
  }

  function post(msg: HostToFrame): void {
    if (!ready || !frame.contentWindow) {
      outbox.push(msg);
      return;
    }
    frame.contentWindow.postMessage(msg, base);
  }

  function emit(name: string, data?: unknown): void {
    for (const fn of handlers[name] || []) {
      try {
        fn(data);
      } catch (err) {
        setTimeout(() => {
          throw err;
        });
      }
    }
  }

  // Fallback storage for the frame when the browser blocks third-party storage.
  const storeKey = "tresen:" + site;
  function store(session: boolean, value?: string): string | null {
    try {
      const area = session ? sessionStorage : localStorage;
      if (value === undefined) return area.getItem(storeKey);
      area.setItem(storeKey, value.slice(0, 100000));
    } catch {
      /* storage disabled on the host page too */
    }
    return null;
  }

  let lastPage = "";
  function reportPage(): void {
    const key = location.href + "\n" + document.title;
    if (key === lastPage) return;
    lastPage = key;
    post({
      tresen: 1,
      type: "page",
      page: {
        url: location.href,
        title: document.title,
        referrer: document.referrer,
        device: device(),
        language: document.documentElement.lang || navigator.language || "",
        utm: utm(),
        focused: hasFocus(),
      },
      narrow: narrow(),
    });
  }

  const cb = cobrowse(base, (data) => post({ tresen: 1, type: "cobrowse", data }));
  window.addEventListener("message", (ev: MessageEvent) => {
    // Only our own frame, from the Tresen origin, is listened to.
    if (ev.origin !== base || ev.source !== frame.contentWindow || !isBridgeMessage(ev.data)) return;
    const msg = ev.data as FrameToHost;
    if (msg.type === "ready") {
      ready = true;
      frame.contentWindow!.postMessage(
        { tresen: 1, type: "restore", local: store(false), session: store(true) },
        base,
      );
      lastPage = "";
      reportPage();
      outbox.splice(0).forEach(post);
      cb.ready();
      emit("ready");
    } else if (msg.type === "state") {
      const changed = msg.state !== state;
      state = msg.state === "open" ? "open" : "closed";
      invite = msg.invite === "bubble" || msg.invite === "chip" ? msg.invite : undefined;
      layout();
      if (changed) emit(state);
      emit("unread", msg.unread);
    } else if (msg.type === "persist") {
      if (typeof msg.local === "string") store(false, msg.local);
      if (typeof msg.session === "string") store(true, msg.session);
    } else if (msg.type === "cobrowse" && msg.data && typeof msg.data.op === "string") {
      cb.fromFrame(msg.data);
    } else if (msg.type === "event" && typeof msg.name === "string") {
      emit(msg.name, msg.data);
    }
  });

  // Single-page apps: report navigations made with the History API too.
  for (const m of ["pushState", "replaceState"] as const) {
    const orig = history[m];
    history[m] = function (this: History, ...args: Parameters<History["pushState"]>) {
      const r = orig.apply(this, args);
      setTimeout(reportPage);
      return r;
    } as History["pushState"];
  }
  window.addEventListener("popstate", reportPage);
  // Which form has the focus (entered, left): the radar measures dwell time on forms.
  let form: string | null = null;
  let formTimer = 0;
  const checkForm = () => {
    const now = formOf(document.activeElement);
    if (now !== form) post({ tresen: 1, type: "form", form: (form = now) });
  };
  document.addEventListener("focusin", checkForm, true);
  document.addEventListener("focusout", () => {
    clearTimeout(formTimer);
    formTimer = window.setTimeout(checkForm, 0); // focus moves to the next field first
  }, true);
  window.addEventListener("hashchange", reportPage);
  // Which tab has the focus: the radar counts focused time per page and invites in that tab.
  let focused = hasFocus();
  const checkFocus = () => {
    if (focused !== hasFocus()) post({ tresen: 1, type: "focus", focused: (focused = !focused) });
  };
  window.addEventListener("focus", checkFocus);
  window.addEventListener("blur", () => setTimeout(checkFocus, 0)); // into our frame: still ours
  document.addEventListener("visibilitychange", checkFocus);
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => {
      layout();
      lastPage = "";
      reportPage();
    }, 100);
  });

  const api: TresenApi = {
    version: "1",
    open: () => post({ tresen: 1, type: "open" }),
    close: () => post({ tresen: 1, type: "close" }),
    identify: (identity) => {
      if (identity && identity.id) post({ tresen: 1, type: "identify", identity });
    },
    track: (name, props) => {
      if (typeof name === "string" && name)
        post({ tresen: 1, type: "track", name: name.slice(0, 100), props: safeProps(props) });
    },
    supportCode: () => {
      cb.code();
      post({ tresen: 1, type: "open" });
    },
    on: (event, fn) => {
      if (typeof fn === "function") (handlers[event] = handlers[event] || []).push(fn);
    },
  };

  // Calls made before the script loaded: window.Tresen = {q: [[method, ...args]]} or a function
  // stub with .q, as in the embed snippet.
  const stub = w.Tresen as { q?: unknown } | undefined;
  const queued = (stub && Array.isArray(stub.q) ? stub.q : []) as Call[];
  w.Tresen = api;
  layout();
  (document.body || document.documentElement).appendChild(frame);
  for (const [method, ...args] of queued) {
    const fn = (api as unknown as Record<string, unknown>)[method];
    if (typeof fn === "function") (fn as (...a: unknown[]) => void)(...args);
  }
}

function hasFocus(): boolean {
  return document.visibilityState !== "hidden" && document.hasFocus();
}

function boot(): void {
  if (w.__tresenLoaded) return;
  const script = findScript();
  if (!script || !script.dataset.site) return;
  w.__tresenLoaded = true;
  if (document.body) start(script);
  else document.addEventListener("DOMContentLoaded", () => start(script));
}

boot();
