import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Attachment } from "../shared/protocol";
import { api, upload } from "./api";
import { matchCanned, type Canned } from "./canned";
import { ChannelBar, useComposerInfo } from "./ChannelBar";
import type { Store } from "./store";
import { recordPick, SuggestionList, useSuggestions, type Suggestion } from "./Suggestions";
import { t } from "./i18n";

export function Composer({ store, convId }: { store: Store; convId: number }) {
  const draft = store.drafts.get(convId) ?? "";
  const internal = store.noteMode.get(convId) ?? false;
  const [menu, setMenu] = useState<{ query: string; index: number } | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const conv = store.convs.get(convId);
  const info = useComposerInfo(store, convId, conv?.channel, conv?.last_seq ?? 0);
  // outside the window only a template (WhatsApp) or nothing goes out; notes still do
  const blocked = !internal && (info?.window?.mode === "template" || info?.window?.mode === "closed");
  const files = store.files.get(convId) ?? [];
  const [uploading, setUploading] = useState(0);
  const [fileError, setFileError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const canAttach = conv?.channel !== "facebook"; // page comments take no files

  async function attach(list: FileList | File[] | null | undefined) {
    const picked = Array.from(list ?? []);
    if (!picked.length || !canAttach) return;
    setFileError(null);
    for (const f of picked) {
      setUploading((n) => n + 1);
      try {
        const name = encodeURIComponent(f.name || "pasted-image");
        const a = await upload<Attachment>(`/api/files?conversation_id=${convId}&name=${name}`, f, "POST");
        store.files.set(convId, [...(store.files.get(convId) ?? []), a]);
        store.changed();
      } catch (e) {
        setFileError(`${f.name || "file"}: ${(e as Error).message}`);
      } finally {
        setUploading((n) => n - 1);
      }
    }
  }

  function unattach(key: string) {
    store.files.set(convId, (store.files.get(convId) ?? []).filter((a) => a.key !== key));
    store.changed();
  }

  useLayoutEffect(() => {
    ref.current?.focus();
    setMenu(null);
  }, [convId]);

  const [canned, setCanned] = useState<Canned[]>([]);
  useEffect(() => {
    let stale = false;
    api<Canned[]>("GET", `/api/canned?conversation_id=${convId}`).then(
      (r) => !stale && setCanned(r),
      () => !stale && setCanned([]),
    );
    return () => {
      stale = true;
    };
  }, [convId, menu !== null]);
  const options = menu ? matchCanned(canned, menu.query) : [];
  const suggestions = useSuggestions(store, convId, internal ? "" : draft);

  function setDraft(text: string) {
    store.drafts.set(convId, text);
    const slash = /^\/(\S*)$/.exec(text);
    setMenu(slash ? { query: slash[1], index: 0 } : null);
    if (text) store.sendTyping(convId, true);
    store.changed();
  }

  function pick(s: Suggestion) {
    store.drafts.set(convId, s.text);
    recordPick(convId, s);
    setMenu(null);
    store.changed();
    ref.current?.focus();
  }

  function insert(c: Canned) {
    const text = c.text ?? c.body;
    recordPick(convId, { source: "canned", id: c.id });
    const current = store.drafts.get(convId) ?? "";
    store.drafts.set(convId, /^\/\S*$/.test(current) ? text : current + text);
    setMenu(null);
    store.changed();
    ref.current?.focus();
  }

  function send() {
    const text = store.drafts.get(convId) ?? "";
    const attached = store.files.get(convId) ?? [];
    if ((!text.trim() && !attached.length) || blocked || uploading) return;
    store.send(convId, text, internal, attached);
    store.drafts.set(convId, "");
    store.files.delete(convId);
    store.changed();
  }

  function onKeyDown(e: KeyboardEvent) {
    const digit = /^Digit([1-9])$/.exec(e.code);
    if (digit && e.altKey && e.shiftKey && !e.ctrlKey && !e.metaKey) {
      const s = suggestions[Number(digit[1]) - 1];
      e.preventDefault();
      if (s) pick(s);
      return;
    }
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
    <div
      class={"composer" + (internal ? " internal" : "")}
      onDragOver={(e) => {
        if (canAttach && e.dataTransfer?.types.includes("Files")) e.preventDefault();
      }}
      onDrop={(e) => {
        if (!canAttach || !e.dataTransfer?.files.length) return;
        e.preventDefault();
        attach(e.dataTransfer.files);
      }}
    >
      {info && <ChannelBar store={store} convId={convId} info={info} />}
      {menu && (
        <ul class="canned-menu" role="listbox" aria-label={t("composer.canned")}>
          {options.length === 0 && <li class="empty">{t("composer.noCanned")}</li>}
          {options.map((c, i) => (
            <li
              key={c.id}
              role="option"
              aria-selected={i === menu.index}
              class={i === menu.index ? "selected" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                insert(c);
              }}
            >
              <strong>/{c.shortcut}</strong> {c.title}
              <span class="canned-body">{c.text ?? c.body}</span>
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
          {t("composer.note")}
        </label>
        <button
          type="button"
          class="canned-button"
          onClick={() => {
            setMenu(menu ? null : { query: "", index: 0 });
            ref.current?.focus();
          }}
        >
          {t("composer.canned")}
        </button>
        {canAttach && (
          <>
            <button type="button" class="attach-button" onClick={() => fileInput.current?.click()}>
              {t("composer.attach")}
            </button>
            <input
              ref={fileInput}
              type="file"
              multiple
              hidden
              name="attachment"
              accept="image/jpeg,image/png,image/gif,image/webp,application/pdf,text/plain"
              onChange={(e) => {
                attach(e.currentTarget.files);
                e.currentTarget.value = "";
              }}
            />
          </>
        )}
        <span class="hint">{t("composer.keys")}</span>
      </div>
      {(files.length > 0 || uploading > 0 || fileError) && (
        <ul class="attachments pending-files" aria-live="polite">
          {files.map((a) => (
            <li key={a.key} class="file-chip">
              <span dir="auto">{a.name}</span>
              <button type="button" aria-label={t("composer.removeFile", { name: a.name })} onClick={() => unattach(a.key)}>
                ×
              </button>
            </li>
          ))}
          {uploading > 0 && <li class="file-chip busy">{t("composer.uploading")}</li>}
          {fileError && (
            <li class="file-error" role="alert">
              {fileError}
            </li>
          )}
        </ul>
      )}
      <div class="composer-row">
        <label class="sr-only" for={`reply-${convId}`}>
          {internal ? t("composer.note") : t("composer.reply")}
        </label>
        <textarea
          ref={ref}
          id={`reply-${convId}`}
          name="reply"
          rows={3}
          dir="auto"
          placeholder={
            internal ? t("composer.notePlaceholder") : blocked ? t("composer.blocked") : t("composer.replyPlaceholder")
          }
          value={draft}
          onInput={(e) => setDraft(e.currentTarget.value)}
          onKeyDown={onKeyDown}
          onPaste={(e) => {
            const pasted = e.clipboardData?.files;
            if (pasted && pasted.length && canAttach) {
              e.preventDefault();
              attach(pasted);
            }
          }}
          onBlur={() => store.sendTyping(convId, false)}
        />
        <button type="button" class="send" onClick={send} disabled={blocked || uploading > 0}>
          {internal ? t("composer.addNote") : t("composer.send")}
        </button>
      </div>
      {!internal && <SuggestionList items={suggestions} onPick={pick} />}
    </div>
  );
}
