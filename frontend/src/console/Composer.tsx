import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { DEFAULT_CANNED, expand, matchCanned, type Canned } from "./canned";
import { ChannelBar, useComposerInfo } from "./ChannelBar";
import type { Store } from "./store";

export function Composer({ store, convId }: { store: Store; convId: number }) {
  const draft = store.drafts.get(convId) ?? "";
  const internal = store.noteMode.get(convId) ?? false;
  const [menu, setMenu] = useState<{ query: string; index: number } | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const conv = store.convs.get(convId);
  const info = useComposerInfo(store, convId, conv?.channel, conv?.last_seq ?? 0);
  // outside the window only a template (WhatsApp) or nothing goes out; notes still do
  const blocked = !internal && (info?.window?.mode === "template" || info?.window?.mode === "closed");

  useLayoutEffect(() => {
    ref.current?.focus();
    setMenu(null);
  }, [convId]);

  const options = menu ? matchCanned(DEFAULT_CANNED, menu.query) : [];

  function setDraft(text: string) {
    store.drafts.set(convId, text);
    const slash = /^\/(\S*)$/.exec(text);
    setMenu(slash ? { query: slash[1], index: 0 } : null);
    if (text) store.sendTyping(convId, true);
    store.changed();
  }

  function insert(c: Canned) {
    const conv = store.convs.get(convId);
    const v = conv ? store.visitors.get(conv.visitor_id) : undefined;
    const text = expand(c.body, {
      visitor: { name: v?.name ?? conv?.visitor?.name ?? null, email: v?.email ?? null },
      agent: { name: store.me.display_name },
    });
    const current = store.drafts.get(convId) ?? "";
    store.drafts.set(convId, /^\/\S*$/.test(current) ? text : current + text);
    setMenu(null);
    store.changed();
    ref.current?.focus();
  }

  function send() {
    const text = store.drafts.get(convId) ?? "";
    if (!text.trim() || blocked) return;
    store.send(convId, text, internal);
    store.drafts.set(convId, "");
    store.changed();
  }

  function onKeyDown(e: KeyboardEvent) {
    if (menu && options.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const d = e.key === "ArrowDown" ? 1 : -1;
        setMenu({ ...menu, index: (menu.index + d + options.length) % options.length });
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        insert(options[Math.min(menu.index, options.length - 1)]);
        return;
      }
    }
    if (menu && e.key === "Escape") {
      e.preventDefault();
      setMenu(null);
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.altKey) {
      e.preventDefault();
      send();
    }
  }

  return (
    <div class={"composer" + (internal ? " internal" : "")}>
      {info && <ChannelBar store={store} convId={convId} info={info} />}
      {menu && (
        <ul class="canned-menu" role="listbox" aria-label="Canned responses">
          {options.length === 0 && <li class="empty">No canned response matches.</li>}
          {options.map((c, i) => (
            <li
              key={c.shortcut}
              role="option"
              aria-selected={i === menu.index}
              class={i === menu.index ? "selected" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                insert(c);
              }}
            >
              <strong>/{c.shortcut}</strong> {c.title}
              <span class="canned-body">{c.body}</span>
            </li>
          ))}
        </ul>
      )}
      <div class="composer-tools">
        <label class="note-toggle">
          <input
            type="checkbox"
            name="internal"
            checked={internal}
            onChange={(e) => {
              store.noteMode.set(convId, e.currentTarget.checked);
              store.changed();
              ref.current?.focus();
            }}
          />
          Internal note
        </label>
        <button
          type="button"
          class="canned-button"
          onClick={() => {
            setMenu(menu ? null : { query: "", index: 0 });
            ref.current?.focus();
          }}
        >
          Canned responses
        </button>
        <span class="hint">Enter sends · Shift+Enter new line · “/” canned</span>
      </div>
      <div class="composer-row">
        <textarea
          ref={ref}
          name="reply"
          rows={3}
          dir="auto"
          placeholder={
            internal
              ? "Internal note (only agents see this)"
              : blocked
                ? "The reply window is closed: send a template, or write an internal note"
                : "Reply to the visitor"
          }
          value={draft}
          onInput={(e) => setDraft(e.currentTarget.value)}
          onKeyDown={onKeyDown}
          onBlur={() => store.sendTyping(convId, false)}
        />
        <button type="button" class="send" onClick={send} disabled={blocked}>
          {internal ? "Add note" : "Send"}
        </button>
      </div>
    </div>
  );
}
