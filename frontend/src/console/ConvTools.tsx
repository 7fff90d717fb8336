import { useState } from "preact/hooks";
import { api } from "./api";
import { snoozeUntil } from "./inboxViews";
import type { Store } from "./store";
import { dateTimeOf } from "./text";
import { t as tr } from "./i18n";
import type { Conv } from "./types";
import { errorText } from "./errors";

/** Tags and snooze for the open conversation (docs/inbox.md). */
export function ConvTools({ store, conv }: { store: Store; conv: Conv }) {
  const [tag, setTag] = useState("");
  const [custom, setCustom] = useState("");
  const tags = conv.tags ?? [];
  const fail = (e: any) => store.flash(errorText(e));

  async function changeTags(body: { add?: string[]; remove?: string[] }) {
    const r = await api<{ tags: string[] }>("POST", `/api/conversations/${conv.id}/tags`, body);
    store.setTags(conv.id, r.tags);
  }

  async function snooze(until: Date | null) {
    const c = await api<Conv>("POST", `/api/conversations/${conv.id}/snooze`, { until: until ? until.toISOString() : null });
    store.mergeSnooze(c);
  }

  const resolved = conv.status === "resolved";
  return (
    <div class="conv-tools" data-tools={conv.id}>
      <ul class="tags" aria-label={tr("tools.tags")}>
        {tags.map((t) => (
          <li key={t} class="tag" data-tag={t}>
            <span dir="auto">#{t}</span>
            <button class="tag-remove" aria-label={tr("tools.removeTag", { tag: t })} onClick={() => void changeTags({ remove: [t] }).catch(fail)}>×</button>
          </li>
        ))}
      </ul>
      <form class="tag-add" onSubmit={(e) => {
        e.preventDefault();
        if (tag.trim()) void changeTags({ add: [tag] }).then(() => setTag(""), fail);
      }}>
        <input value={tag} maxLength={40} placeholder={tr("tools.addTag")} aria-label={tr("tools.addTag")} onInput={(e) => setTag(e.currentTarget.value)} />
        <button type="submit">{tr("tools.tag")}</button>
      </form>
      <span class="spacer" />
      {conv.snoozed_until ? (
        <span class="snoozed" data-snoozed={conv.snoozed_until}>
          {tr("tools.snoozedUntil", { time: dateTimeOf(conv.snoozed_until) })}{" "}
          <button data-action="wake" onClick={() => void snooze(null).catch(fail)}>{tr("tools.wake")}</button>
        </span>
      ) : !resolved && (
        <label class="snooze">
          {tr("tools.snooze")}{" "}
          <select name="snooze" aria-label={tr("tools.snoozeUntil")} value="" onChange={(e) => {
            const preset = e.currentTarget.value;
            if (preset && preset !== "custom") void snooze(snoozeUntil(preset)).catch(fail);
            else if (preset === "custom") setCustom(new Date(Date.now() + 3600_000).toISOString().slice(0, 16));
          }}>
            <option value="">…</option>
            <option value="1h">{tr("tools.1h")}</option>
            <option value="4h">{tr("tools.4h")}</option>
            <option value="tomorrow">{tr("tools.tomorrow")}</option>
            <option value="week">{tr("tools.week")}</option>
            <option value="custom">{tr("tools.custom")}</option>
          </select>
          {custom && (
            <>
              <input type="datetime-local" value={custom} aria-label={tr("tools.snoozeTime")} onInput={(e) => setCustom(e.currentTarget.value)} />
              <button onClick={() => void snooze(new Date(custom)).then(() => setCustom(""), fail)}>{tr("tools.snooze")}</button>
            </>
          )}
        </label>
      )}
    </div>
  );
}
