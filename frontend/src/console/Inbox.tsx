import { useState } from "preact/hooks";
import { highlightRuns, snoozeUntil, type InboxViews, type SearchHit } from "./inboxViews";
import { channelLabel } from "./deliveries";
import type { Store } from "./store";
import { dateTimeOf, timeOf } from "./text";
import type { Conv } from "./types";
import { visitorName } from "./types";
import { ListMarks, marksOf } from "./Lifecycle";
import { errorText } from "./errors";
import { t, tValue, type Key } from "./i18n";

const VIEWS: [string, Key][] = [
  ["mine", "view.mine"],
  ["unassigned", "view.unassigned"],
  ["all", "view.all"],
  ["snoozed", "view.snoozed"],
  ["resolved", "view.resolved"],
];

function viewLabel(view: string, views: InboxViews): string {
  const hit = VIEWS.find(([v]) => v === view);
  if (hit) return t(hit[1]);
  const [kind, value] = view.split(/:(.*)/s);
  if (kind === "tag") return `#${value}`;
  if (kind === "team") return t("view.team", { name: views.team(Number(value))?.name ?? `#${value}` });
  return value === "email" ? t("inbox.emailMark") : channelLabel(value);
}

function ViewList({ store }: { store: Store }) {
  const v = store.views;
  const n = v.counts;
  const item = (view: string, count: number | undefined) => (
    <li key={view}>
      <button class={"view-item" + (v.view === view ? " on" : "")} aria-current={v.view === view ? "true" : undefined}
        data-inbox-view={view} onClick={() => v.setView(view)}>
        <span dir="auto">{viewLabel(view, v)}</span>
        {count !== undefined && <span class="count" data-testid="view-count">{count}</span>}
      </button>
    </li>
  );
  const channels = Object.entries(n?.channels ?? {}).sort();
  const tags = Object.entries(n?.tags ?? {}).sort();
  return (
    <ul class="view-list">
      {VIEWS.map(([view]) => item(view, n ? (n as any)[view] : undefined))}
      {channels.length > 1 && channels.map(([ch, c]) => item(`channel:${ch}`, c))}
      {(n?.teams ?? []).map((team) => item(`team:${team.id}`, team.count))}
      {tags.map(([tag, c]) => item(`tag:${tag}`, c))}
    </ul>
  );
}

function Hit({ h, store }: { h: SearchHit; store: Store }) {
  return (
    <li>
      <button class="search-hit" data-hit={h.message_id} onClick={() => void store.open(h.conversation_id)}>
        <span class="conv-top">
          <span class="conv-name" dir="auto">{h.visitor_name || t("inbox.convN", { id: h.conversation_id })}</span>
          <span class="conv-time">{dateTimeOf(h.created_at)}</span>
        </span>
        <span class="hit-snippet" dir="auto">
          {highlightRuns(h.snippet, h.highlights).map((r, i) => (r.hit ? <mark key={i}>{r.text}</mark> : r.text))}
        </span>
        <span class="conv-meta">#{h.conversation_id} · {tValue("status", h.status)}{h.internal ? t("inbox.noteMark") : ""}</span>
      </button>
    </li>
  );
}

function Search({ store }: { store: Store }) {
  const v = store.views;
  const [q, setQ] = useState(v.query);
  return (
    <form class="inbox-search" role="search" onSubmit={(e) => { e.preventDefault(); void v.search(q); }}>
      <input type="search" name="q" value={q} maxLength={500} placeholder={t("inbox.search")}
        aria-label={t("inbox.search")} onInput={(e) => { setQ(e.currentTarget.value); if (!e.currentTarget.value) v.clearSearch(); }} />
      <button type="submit">{t("inbox.searchButton")}</button>
    </form>
  );
}

function BulkBar({ store }: { store: Store }) {
  const v = store.views;
  const [tag, setTag] = useState("");
  if (!v.selected.size) return null;
  const run = (action: string, extra: Record<string, unknown> = {}) =>
    v.bulk(action, extra).then((t) => store.flash(t), (e) => store.flash(errorText(e)));
  return (
    <div class="bulk-bar" role="toolbar" aria-label={t("inbox.selected", { n: v.selected.size })}>
      <span>{t("inbox.selected", { n: v.selected.size })}</span>
      <button data-bulk="assign" onClick={() => void run("assign", { assignee_id: store.me.id })}>{t("inbox.assign")}</button>
      <button data-bulk="resolve" onClick={() => void run("resolve")}>{t("inbox.resolve")}</button>
      <button data-bulk="snooze" onClick={() => void run("snooze", { until: snoozeUntil("1h").toISOString() })}>{t("inbox.snooze1h")}</button>
      <input value={tag} aria-label={t("inbox.tagSelection")} placeholder={t("inbox.tagPlaceholder")} maxLength={40} onInput={(e) => setTag(e.currentTarget.value)} />
      <button data-bulk="tag" disabled={!tag.trim()} onClick={() => void run("tag", { tags: [tag] })}>{t("inbox.tag")}</button>
    </div>
  );
}

function ConvRow({ c, store }: { c: Conv; store: Store }) {
  const last = c.last_message;
  const typing = store.typing.get(c.id);
  return (
    <li class="conv-row">
      <input type="checkbox" class="conv-select" aria-label={t("inbox.select", { id: c.id })}
        checked={store.views.selected.has(c.id)} onChange={() => store.views.toggle(c.id)} />
      <button
        class={
          "conv-item" +
          (store.active === c.id ? " active" : "") +
          (c.unread ? " has-unread" : "") +
          (marksOf(c).waiting !== undefined ? " is-waiting" : "") +
          (marksOf(c).silent !== undefined ? " is-silent" : "")
        }
        data-conv={c.id}
        onClick={() => void store.open(c.id)}
      >
        <span class="conv-top">
          <span class="conv-name" dir="auto">{visitorName(c.visitor, c.visitor_id)}</span>
          {c.unread > 0 && (
            <span class="unread" data-testid="unread" aria-label={t("inbox.unread", { n: c.unread })}>{c.unread}</span>
          )}
          <span class="conv-time">{timeOf(c.updated_at)}</span>
        </span>
        <span class="conv-preview" dir="auto">
          {typing ? t("inbox.typing") : last ? (
            <>
              {last.internal ? "📝 " : last.author_kind === "agent" ? t("inbox.agentPrefix") : ""}
              <bdi>{last.body}</bdi>
            </>
          ) : t("inbox.noMessages")}
        </span>
        <span class="conv-meta">
          #{c.id} · {tValue("status", c.status)}
          {c.channel !== "web" && <span class="conv-channel"> · {c.channel === "email" ? t("inbox.emailMark") : channelLabel(c.channel)}</span>}
          {c.assignee_id === store.me.id ? t("inbox.mineMark") : c.assignee_id ? t("inbox.assignedMark") : ""}
          {c.offered_to === store.me.id && <strong class="offered">{t("inbox.offered")}</strong>}
          <ListMarks c={c} />
          {c.snoozed_until && <span class="conv-snoozed">{t("inbox.snoozedMark", { time: dateTimeOf(c.snoozed_until) })}</span>}
          {(c.tags ?? []).map((tag) => <span key={tag} class="tag-chip" dir="auto"> #{tag}</span>)}
        </span>
      </button>
    </li>
  );
}

export function Inbox({ store }: { store: Store }) {
  const v = store.views;
  const resolved = v.view === "resolved";
  const list = resolved ? v.resolved : v.filter(store.inbox());
  return (
    <nav class="inbox" id="conversations" tabIndex={-1} aria-label={t("inbox.label")}>
      <Search key={v.hits === null ? "idle" : v.query} store={store} />
      {v.hits !== null ? (
        <section class="search-results" aria-label={t("inbox.searchResults")} aria-live="polite">
          <h2>
            {t("inbox.results")} <span class="count">{v.hits.length}</span>{" "}
            <button class="link" onClick={() => v.clearSearch()}>{t("inbox.clear")}</button>
          </h2>
          {v.searchError && <p class="error" role="alert">{v.searchError}</p>}
          {!v.searchError && v.hits.length === 0 && <p class="empty">{t("inbox.noMatch")}</p>}
          <ul>{v.hits.map((h) => <Hit key={h.message_id} h={h} store={store} />)}</ul>
        </section>
      ) : (
        <>
          <ViewList store={store} />
          <h2>
            {resolved ? t("inbox.resolvedTitle") : viewLabel(v.view, v)} <span class="count">{list.length}</span>
          </h2>
          <BulkBar store={store} />
          {list.length === 0 && <p class="empty">{t("inbox.none")}</p>}
          <ul>{list.map((c) => <ConvRow key={c.id} c={c} store={store} />)}</ul>
          {resolved && v.resolvedCursor && (
            <button class="older" onClick={() => void v.loadResolved(true)}>{t("inbox.older")}</button>
          )}
        </>
      )}
    </nav>
  );
}
