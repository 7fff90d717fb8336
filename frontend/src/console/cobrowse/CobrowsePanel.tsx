import { isolate } from "../../shared/bidi";
// Co-browsing in a chat pane: request it, watch the visitor's page live, and the agent's tools
// (pointer, escorted browsing, page push, form sharing, remote control after a second consent).
import { useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "../errors";
import { t, type Key } from "../i18n";
import type { Store } from "../store";
import type { CbSession } from "./manager";

type Mode = "pointer" | "escort" | "fill" | "control";

/** Remote control sends at most this often (scroll positions and typed text are batched). */
const CONTROL_MS = 50;

/** What a keydown in the mirror types on the visitor's page: a character, "\b" (Backspace),
 * "\n" (Enter); null for everything else (shortcuts, arrows, Tab). */
export function keyText(ev: KeyboardEvent): string | null {
  if (ev.ctrlKey || ev.metaKey || ev.isComposing) return null;
  if (ev.key === "Backspace") return "\b";
  if (ev.key === "Enter") return "\n";
  return [...ev.key].length === 1 ? ev.key : null;
}

function textField(el: Element | null): boolean {
  return !!el && /^(INPUT|TEXTAREA)$/.test(el.tagName);
}

const MODES: { mode: Mode; label: Key; needs?: "control" }[] = [
  { mode: "pointer", label: "cob.point" },
  { mode: "escort", label: "cob.lead" },
  { mode: "fill", label: "cob.fillField" },
  { mode: "control", label: "cob.control", needs: "control" },
];

export function CobrowseBar({ store, convId }: { store: Store; convId: number }) {
  const cb = store.cobrowse;
  useEffect(() => {
    void cb.load(convId).catch(() => undefined);
  }, [convId]);
  const s = cb.forConv(convId);
  const live = s && (s.status === "active" || s.status === "requested");
  return (
    <div class="cobrowse" data-testid="cobrowse">
      <div class="cobrowse-head">
        {!live && (
          <button data-action="cobrowse" onClick={() => cb.request(convId)}>
            {t("cob.start")}
          </button>
        )}
        {s?.status === "requested" && <span data-testid="cobrowse-status">{t("cob.waiting")}</span>}
        {s?.status === "active" && (
          <>
            <span data-testid="cobrowse-status">{s.control ? t("cob.activeControl") : t("cob.active")}</span>
            <span class="cobrowse-url" data-testid="cobrowse-url" dir="ltr">
              {s.url}
            </span>
            <button data-action="cobrowse-stop" onClick={() => cb.stop(s)}>
              {t("cob.stop")}
            </button>
          </>
        )}
        {s && s.notice && (
          <span class="cobrowse-notice" role="status" data-testid="cobrowse-notice">
            {s.notice}
          </span>
        )}
      </div>
      {s?.status === "active" && <Mirror store={store} s={s} />}
    </div>
  );
}

function Mirror({ store, s }: { store: Store; s: CbSession }) {
  const cb = store.cobrowse;
  const root = useRef<HTMLDivElement>(null);
  const [mode, setMode] = useState<Mode>("pointer");
  const [field, setField] = useState<{ node: number; name: string } | null>(null);
  const [value, setValue] = useState("");
  const [push, setPush] = useState("");
  const modeRef = useRef(mode);
  modeRef.current = mode;

  useEffect(() => {
    if (!root.current) return;
    const replayer = cb.mount(s.session_id, root.current);
    replayer.enableInteract();
    // Each full snapshot rebuilds the mirror's document (document.open drops listeners): attach
    // again every time; the same function references keep it to one listener each.
    const noSubmit = (ev: Event) => ev.preventDefault();
    const attach = () => {
      const doc = replayer.iframe.contentDocument;
      if (!doc) return;
      doc.removeEventListener("click", onClick, true);
      doc.addEventListener("click", onClick, true);
      doc.removeEventListener("submit", noSubmit, true);
      doc.addEventListener("submit", noSubmit, true);
      doc.removeEventListener("keydown", onKey, true);
      doc.addEventListener("keydown", onKey, true);
      doc.removeEventListener("wheel", onWheel, true);
      doc.addEventListener("wheel", onWheel, { capture: true, passive: false });
    };
    const controlling = () => modeRef.current === "control" && cb.current(s.session_id)?.control === true;

    // Typing while in control: keystrokes in a focused text field of the mirror are sent to the
    // same field on the visitor's page, batched (the page and the relay refuse private fields).
    let typed = { node: 0, text: "" };
    let typeTimer = 0;
    const flushTyped = () => {
      typeTimer = 0;
      if (typed.text && typed.node) cb.command(s, "type", { node: typed.node, value: typed.text });
      typed = { node: 0, text: "" };
    };
    const onKey = (ev: KeyboardEvent) => {
      if (!controlling() || ev.key === "Tab") return;
      const target = ev.target as Element;
      ev.preventDefault(); // the mirror shows the visitor's page, not our keystrokes
      const text = keyText(ev);
      if (text === null || !textField(target)) return;
      const node = replayer.getMirror().getId(target as Node);
      if (!node || node < 0) return;
      if (typed.node && typed.node !== node) flushTyped();
      typed = { node, text: typed.text + text };
      if (!typeTimer) typeTimer = window.setTimeout(flushTyped, CONTROL_MS);
    };

    // Scrolling while in control: the wheel over the mirror scrolls the visitor's page (or the
    // scrollable element under the pointer), at most 20 commands a second.
    let wheel = { node: 0, el: null as Element | null, dx: 0, dy: 0 };
    let wheelTimer = 0;
    let sent = { node: -1, x: 0, y: 0, at: 0 };
    const scroller = (start: Element | null): Element | null => {
      const doc = replayer.iframe.contentDocument;
      const win = doc?.defaultView;
      for (let el = start; el && win && el !== doc!.body && el !== doc!.documentElement; el = el.parentElement) {
        const oy = win.getComputedStyle(el).overflowY;
        if (el.scrollHeight > el.clientHeight + 1 && (oy === "auto" || oy === "scroll")) return el;
      }
      return null;
    };
    const flushWheel = () => {
      wheelTimer = 0;
      const doc = replayer.iframe.contentDocument;
      const page = doc?.scrollingElement;
      const el = wheel.el || page;
      if (!el) return;
      const recent = sent.node === wheel.node && Date.now() - sent.at < 600;
      const x0 = recent ? sent.x : el.scrollLeft;
      const y0 = recent ? sent.y : el.scrollTop;
      const clamp = (v: number, max: number) => Math.round(Math.max(0, Math.min(v, Math.max(0, max))));
      const x = clamp(x0 + wheel.dx, el.scrollWidth - el.clientWidth);
      const y = clamp(y0 + wheel.dy, el.scrollHeight - el.clientHeight);
      sent = { node: wheel.node, x, y, at: Date.now() };
      cb.command(s, "scroll", wheel.node ? { node: wheel.node, x, y } : { x, y });
      wheel = { node: 0, el: null, dx: 0, dy: 0 };
    };
    const onWheel = (ev: WheelEvent) => {
      if (!controlling()) return;
      ev.preventDefault();
      const el = scroller(ev.target as Element);
      const node = el ? replayer.getMirror().getId(el as Node) : 0;
      if (wheelTimer && node !== wheel.node) {
        window.clearTimeout(wheelTimer);
        flushWheel();
      }
      const unit = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? replayer.iframe.clientHeight : 1;
      wheel = { node: node > 0 ? node : 0, el: node > 0 ? el : null, dx: wheel.dx + ev.deltaX * unit, dy: wheel.dy + ev.deltaY * unit };
      if (!wheelTimer) wheelTimer = window.setTimeout(flushWheel, CONTROL_MS);
    };
    const onClick = (ev: MouseEvent) => {
      ev.preventDefault();
      ev.stopPropagation();
      const target = ev.target as Element;
      const node = replayer.getMirror().getId(target as Node);
      const m = modeRef.current;
      if (m === "pointer") cb.command(s, "pointer", { node });
      else if (m === "control") cb.command(s, "click", { node });
      else if (m === "escort") {
        const a = target.closest ? target.closest("a[href]") : null;
        if (a) cb.command(s, "navigate", { url: a.getAttribute("href"), escort: true });
      } else if (m === "fill") {
        const f = target.closest ? target.closest("input, textarea") : null;
        if (f) {
          const fid = replayer.getMirror().getId(f as Node);
          setField({ node: fid, name: f.getAttribute("name") || f.getAttribute("id") || "field" });
        }
      }
    };
    replayer.on("fullsnapshot-rebuilded", () => {
      replayer.enableInteract();
      attach();
    });
    attach();
    return () => {
      window.clearTimeout(typeTimer);
      window.clearTimeout(wheelTimer);
      cb.unmountReplayer();
    };
  }, [s.session_id]);

  const fill = (e: Event) => {
    e.preventDefault();
    if (field) cb.command(s, "fill", { node: field.node, value });
  };
  const pushPage = (e: Event) => {
    e.preventDefault();
    if (push.trim()) cb.command(s, "navigate", { url: push.trim() });
  };

  return (
    <div class="cobrowse-live">
      <div class="cobrowse-tools" role="toolbar" aria-label={t("cob.tools")}>
        {MODES.filter((m) => !m.needs || s.control).map((m) => (
          <button key={m.mode} data-mode={m.mode} aria-pressed={mode === m.mode} onClick={() => setMode(m.mode)}>
            {t(m.label)}
          </button>
        ))}
        {!s.control && (
          <button data-action="request-control" onClick={() => cb.command(s, "request_control")}>
            {t("cob.askControl")}
          </button>
        )}
        <form class="cobrowse-push" onSubmit={pushPage}>
          <input name="push_url" placeholder="/shop/cart" /* i18n-ignore: an example */ value={push} onInput={(e) => setPush(e.currentTarget.value)} />
          <button type="submit">{t("cob.sendPage")}</button>
        </form>
      </div>
      {mode === "control" && (
        <p class="cobrowse-hint" data-testid="cobrowse-control-hint">
          {t("cob.controlHint")}
        </p>
      )}
      {mode === "fill" && (
        <form class="cobrowse-fill" onSubmit={fill}>
          <span>{field ? t("cob.field", { name: isolate(field.name) }) : t("cob.pickField")}</span>
          <input name="fill_value" value={value} disabled={!field} onInput={(e) => setValue(e.currentTarget.value)} />
          <button type="submit" disabled={!field}>
            {t("cob.fill")}
          </button>
        </form>
      )}
      {s.unshown && (
        <p class="cobrowse-unshown" role="status" data-testid="cobrowse-unshown">
          {s.unshown}{" "}
          <span dir="ltr">
            <bdi>{s.url}</bdi>
          </span>
        </p>
      )}
      <div class="cobrowse-mirror" ref={root} data-testid="cobrowse-mirror" hidden={Boolean(s.unshown)} />
    </div>
  );
}

export function JoinByCode({ store }: { store: Store }) {
  const [code, setCode] = useState("");
  const [error, setError] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      const r = await store.cobrowse.joinByCode(code.replace(/\s/g, ""));
      setCode("");
      await store.open(r.conversation_id);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="join-code" onSubmit={submit} data-testid="join-by-code">
      <input
        name="support_code"
        inputMode="numeric"
        placeholder={t("cob.code")}
        aria-label={t("cob.code")}
        value={code}
        onInput={(e) => setCode(e.currentTarget.value)}
      />
      <button type="submit">{t("cob.join")}</button>
      {error && <span class="join-error" role="alert">{error}</span>}
    </form>
  );
}
