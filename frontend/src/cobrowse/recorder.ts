// The co-browse recorder, loaded into the host page by the loader only after the visitor agreed.
// Records the page with rrweb, private by default: every input value is masked unless the field
// (or an ancestor) carries data-tresen-allow; passwords, card fields (autocomplete cc-*) and
// data-tresen-private elements are blocked, i.e. never serialised. Applies the agent's tools.
import { record } from "rrweb";
import { ALLOW_ATTR, BLOCK_SELECTOR, CbCommand, CbToFrame, CbToHost, SNAPSHOT_CAP, TOO_LARGE_TAG } from "./types";
import { Ui } from "./ui";

interface HostLink {
  post(data: CbToFrame): void;
  ready(fn: (d: CbToHost) => void): void;
}

const BATCH_MS = 30;
const host = (window as unknown as { __tresenCb?: HostLink }).__tresenCb;
let session = 0;
let control = false;
let autoFollow = false;
let stopRecording: (() => void) | undefined;
let buffer: unknown[] = [];
let timer = 0;
const ui = new Ui({
  stop: () => {
    host?.post({ op: "stop", session });
    stop();
  },
  grant: (granted) => host?.post({ op: "control", session, granted }),
});

function send(events: unknown[]): void {
  const frame = { type: "cobrowse_events", session_id: session, events, url: location.href };
  const size = JSON.stringify(frame).length;
  if (size <= SNAPSHOT_CAP) {
    host?.post({ op: "events", session, events, url: location.href });
  } else if (events.length > 1) {
    const half = Math.ceil(events.length / 2);
    send(events.slice(0, half));
    send(events.slice(half));
  } else {
    // One event over the cap (a huge page's snapshot): say so instead of sending it.
    const note = { type: 5, timestamp: Date.now(), data: { tag: TOO_LARGE_TAG, payload: { bytes: size, limit: SNAPSHOT_CAP } } };
    host?.post({ op: "events", session, events: [note], url: location.href });
  }
}

function flush(): void {
  timer = 0;
  if (!buffer.length || !session) return;
  const events = buffer;
  buffer = [];
  send(events);
}

function mask(text: string, el: HTMLElement | null): string {
  return el && el.closest && el.closest(`[${ALLOW_ATTR}]`) ? text : "*".repeat(text.length);
}

function start(d: Extract<CbToHost, { op: "start" }>): void {
  control = d.control;
  autoFollow = d.autoFollow;
  ui.setLang(d.lang);
  ui.banner(d.agent, control);
  if (stopRecording && session === d.session) return;
  stop();
  session = d.session;
  ui.banner(d.agent, control);
  stopRecording = record({
    emit(ev) {
      buffer.push(ev);
      if (!timer) timer = window.setTimeout(flush, BATCH_MS);
    },
    maskAllInputs: true,
    maskInputFn: mask,
    blockSelector: BLOCK_SELECTOR,
    inlineStylesheet: true,
    recordCanvas: false,
    collectFonts: false,
    sampling: { mousemove: 100, scroll: 100, media: 800 },
  });
}

function stop(): void {
  if (stopRecording) stopRecording();
  stopRecording = undefined;
  clearTimeout(timer);
  timer = 0;
  buffer = [];
  session = 0;
  control = false;
  ui.clear();
}

/** A field the agent may fill: an input or textarea, not private, not hidden or a file. */
function fillable(el: Element | null): el is HTMLInputElement | HTMLTextAreaElement {
  if (!(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement)) return false;
  if (el.matches(BLOCK_SELECTOR) || el.closest(BLOCK_SELECTOR) || el.disabled || el.readOnly) return false;
  return !(el instanceof HTMLInputElement && /^(password|hidden|file|submit|button|image|reset)$/i.test(el.type));
}

function setValue(el: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  const proto = el instanceof HTMLInputElement ? HTMLInputElement.prototype : HTMLTextAreaElement.prototype;
  const setter = Object.getOwnPropertyDescriptor(proto, "value")?.set;
  if (setter) setter.call(el, value);
  else el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
  el.dispatchEvent(new Event("change", { bubbles: true }));
}

/** Remote typing: ``text`` goes in at the caret ("\b" deletes backwards, "\n" only in a
 * textarea), as the visitor's own keystrokes would; the page sees input events. */
function typeInto(el: HTMLInputElement | HTMLTextAreaElement, text: string): void {
  if (document.activeElement !== el) el.focus({ preventScroll: true });
  let v = el.value;
  let a: number | null = null;
  let b: number | null = null;
  try {
    a = el.selectionStart;
    b = el.selectionEnd;
  } catch {
    /* email, number: no selection API */
  }
  if (a === null || b === null) a = b = v.length;
  for (const ch of text) {
    if (ch === "\b") {
      if (a !== b) v = v.slice(0, a) + v.slice(b);
      else if (a > 0) {
        v = v.slice(0, a - 1) + v.slice(a);
        a -= 1;
      }
      b = a;
    } else if (ch === "\n" && !(el instanceof HTMLTextAreaElement)) {
      continue;
    } else if (ch >= " " || ch === "\n") {
      v = v.slice(0, a) + ch + v.slice(b);
      a = b = a + ch.length;
    }
  }
  if (el.maxLength > 0 && v.length > el.maxLength) return;
  setValue(el, v);
  try {
    el.setSelectionRange(a, b);
  } catch {
    /* no selection API */
  }
}

function nodeOf(id: number | null | undefined): Element | null {
  if (typeof id !== "number") return null;
  const n = record.mirror.getNode(id);
  return n && n.nodeType === 1 ? (n as Element) : null;
}

function go(url: string, who: string | null): void {
  const target = new URL(url, location.href);
  if (target.origin !== location.origin) return; // only pages of this site
  if (autoFollow) location.assign(target.href);
  else ui.confirmPage(target.href, who, () => location.assign(target.href));
}

function command(c: CbCommand): void {
  if (!session || c.session_id !== session) return;
  const el = nodeOf(c.node);
  switch (c.action) {
    case "pointer":
      if (el) ui.highlight(el, c.agent_name || null);
      else if (typeof c.x === "number" && typeof c.y === "number") ui.dot(c.x, c.y);
      break;
    case "navigate":
      if (c.url) go(c.url, c.agent_name || null);
      break;
    case "fill":
      // Form sharing: the whole value, set for the visitor (never a private field).
      if (fillable(el) && typeof c.value === "string") {
        ui.highlight(el, c.agent_name || null);
        setValue(el, c.value);
      }
      break;
    case "type":
      // Remote control: keystrokes at the caret (never into a private field).
      if (control && fillable(el) && typeof c.value === "string") typeInto(el, c.value);
      break;
    case "click":
      if (control && el && !el.closest(BLOCK_SELECTOR)) (el as HTMLElement).click();
      break;
    case "scroll":
      if (!control) return;
      if (el && el !== document.documentElement && el !== document.body && !el.closest(BLOCK_SELECTOR))
        el.scrollTo(c.x || 0, c.y || 0);
      else window.scrollTo(c.x || 0, c.y || 0);
      break;
    case "request_control":
      ui.askControl(c.agent_name || null);
      break;
    case "snapshot":
      record.takeFullSnapshot(true);
      break;
  }
}

host?.ready((d) => {
  if (d.op === "start") start(d);
  else if (d.op === "stop") stop();
  else if (d.op === "snapshot") {
    if (stopRecording) record.takeFullSnapshot(true);
  } else if (d.op === "state") {
    control = d.control;
    autoFollow = d.autoFollow;
    ui.setLang(d.lang);
    ui.setControl(control);
  } else if (d.op === "command") command(d.command);
});
