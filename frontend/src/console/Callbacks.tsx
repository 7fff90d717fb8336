import { useEffect, useState } from "preact/hooks";
import type { Callback, CallbackList } from "./callbackList";
import type { Store } from "./store";
import { dateTimeOf } from "./text";
import { t, type Key } from "./i18n";
import { errorText } from "./errors";

const LISTS: [CallbackList, Key][] = [
  ["due", "cb.due"],
  ["mine", "cb.mine"],
  ["unassigned", "cb.unassigned"],
  ["done", "cb.done"],
];

/** A `datetime-local` value for an instant, in the browser's zone. */
function localInput(iso: string | null): string {
  const d = iso ? new Date(iso) : new Date(Date.now() + 3600_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function Row({ cb, store, openChat }: { cb: Callback; store: Store; openChat: (id: number) => void }) {
  const [when, setWhen] = useState(localInput(cb.remind_at));
  const [notes, setNotes] = useState(cb.notes);
  const act = (change: Record<string, unknown>) => store.callbacks.update(cb.id, change).catch((e) => store.flash(errorText(e)));
  const mine = cb.owner_id === store.me.id;
  return (
    <li class="callback" data-callback={cb.id}>
      <div class="callback-head">
        <a class="callback-phone" href={`tel:${cb.phone}`}>{cb.phone}</a>
        {cb.preferred_text && <span class="hint" dir="auto">{t("cb.prefers", { text: cb.preferred_text })}</span>}
        <span class="hint">{cb.remind_at ? t("cb.remind", { time: dateTimeOf(cb.remind_at) }) : t("cb.noReminder")}</span>
        <span class="hint">{cb.owner_id === null ? t("cb.ownerNone") : mine ? t("cb.ownerMine") : t("cb.ownerAgent", { id: cb.owner_id })}</span>
        {cb.conversation_id !== null && (
          <button onClick={() => openChat(cb.conversation_id!)}>{t("cb.conversation", { id: cb.conversation_id })}</button>
        )}
      </div>
      {cb.status === "open" ? (
        <div class="callback-actions">
          {!mine && <button data-action="take" onClick={() => void act({ take: true })}>{t("cb.take")}</button>}
          <label>
            {t("cb.remindAt")}{" "}
            <input type="datetime-local" value={when} onInput={(e) => setWhen(e.currentTarget.value)} />
          </label>
          <button data-action="reschedule" onClick={() => void act({ remind_at: new Date(when).toISOString() })}>
            {t("cb.reschedule")}
          </button>
          <label class="callback-notes">
            {t("cb.notes")} <textarea rows={1} value={notes} maxLength={4000} onInput={(e) => setNotes(e.currentTarget.value)} />
          </label>
          <button data-action="save-notes" onClick={() => void act({ notes })}>{t("cb.saveNotes")}</button>
          <button data-action="done" onClick={() => void act({ status: "done", notes })}>{t("cb.done")}</button>
        </div>
      ) : (
        <div class="callback-actions">
          <span class="hint" dir="auto">{t("cb.doneAt", { time: cb.done_at ? dateTimeOf(cb.done_at) : "" })} {cb.notes}</span>
          <button data-action="reopen" onClick={() => void act({ status: "open" })}>{t("cb.reopen")}</button>
        </div>
      )}
    </li>
  );
}

export function Callbacks({ store, openChat }: { store: Store; openChat: (id: number) => void }) {
  const cbs = store.callbacks;
  useEffect(() => {
    cbs.shown = true;
    cbs.dueNow = 0;
    void cbs.load().catch((e) => store.flash(errorText(e)));
    return () => {
      cbs.shown = false;
    };
  }, [cbs]);
  return (
    <section class="callbacks-view" aria-label={t("cb.label")}>
      <nav class="callback-lists" aria-label={t("cb.lists")}>
        {LISTS.map(([list, label]) => (
          <button key={list} class={cbs.list === list ? "on" : ""} aria-pressed={cbs.list === list} data-list={list}
            onClick={() => void cbs.load(list)}>
            {t(label)}
          </button>
        ))}
      </nav>
      {cbs.items.length === 0 && <p class="empty">{t("cb.none")}</p>}
      <ul class="callback-items">
        {cbs.items.map((cb) => (
          <Row key={`${cb.id}-${cb.status}-${cb.remind_at}`} cb={cb} store={store} openChat={openChat} />
        ))}
      </ul>
    </section>
  );
}
