import { Fragment } from "preact";
import { useEffect } from "preact/hooks";
import { clock, useNow } from "./hooks";
import type { Store } from "./store";
import { Linked } from "../shared/Linked";
import { dateTimeOf, timeOf } from "./text";
import { t } from "./i18n";
import { openContact } from "./contactTypes";

const CONTEXT_REFRESH_MS = 5000;

function attrValue(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

export function ContextPanel({ store, convId }: { store: Store; convId: number }) {
  const now = useNow();
  const conv = store.convs.get(convId);
  const v = conv ? store.visitors.get(conv.visitor_id) : undefined;
  const visitorId = conv?.visitor_id;
  // Radar frames reach this console only while a live visitors view is open: otherwise the
  // visitor's context is read again now and then, so "where are they now" stays current.
  useEffect(() => {
    if (visitorId === undefined) return;
    const timer = window.setInterval(() => {
      if (!store.radar.live && !document.hidden) void store.loadVisitor(visitorId);
    }, CONTEXT_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [store, visitorId]);
  if (!conv) return null;
  if (!v) return <aside class="context">{t("ctx.loading")}</aside>;
  const attrs = Object.entries(v.attributes || {});
  const past = v.conversations.filter((c) => c.id !== convId);
  // live state: the radar feed while the console follows it (a live visitors view is open),
  // else what the context request saw
  const live = store.radar.live ? store.radar.visitors.get(v.id) : v.live;
  const onSite = live ? clock(now - live.site_started_at) : null;
  const current = live?.url || v.current_page;
  return (
    <aside class="context" aria-label={t("ctx.label")} data-visitor={v.id}>
      <h3>{t("ctx.visitor")}</h3>
      {v.contact_id != null && (
        <p>
          <a
            href={`/console/contacts/${v.contact_id}`}
            data-testid="open-contact"
            onClick={(e) => {
              e.preventDefault();
              openContact(v.contact_id!);
            }}
          >
            {t("ctx.openContact")}
          </a>
        </p>
      )}
      <dl>
        <dt>{t("ctx.identity")}</dt>
        <dd>
          {v.verified ? (
            <span class="badge verified">{t("ctx.verified")}</span>
          ) : (
            <span class="badge anon">{t("ctx.anonymous")}</span>
          )}
        </dd>
        <dt>{t("ctx.name")}</dt>
        <dd dir="auto" data-field="name">{v.name || "—"}</dd>
        <dt>{t("ctx.email")}</dt>
        <dd dir="auto" data-field="email">{v.email || "—"}</dd>
        <dt>{t("ctx.externalId")}</dt>
        <dd dir="auto" data-field="external_id">{v.external_id || "—"}</dd>
        <dt>{t("ctx.site")}</dt>
        <dd dir="auto">{v.site_name || `#${v.site_id}`}</dd>
        <dt>{t("ctx.firstSeen")}</dt>
        <dd>{dateTimeOf(v.created_at)}</dd>
        <dt>{t("ctx.lastSeen")}</dt>
        <dd>{dateTimeOf(v.last_seen_at)}</dd>
        <dt>{t("ctx.onSite")}</dt>
        <dd data-field="live">
          {live ? (
            <span class="badge live">{t("ctx.now", { time: onSite ?? "" })}</span>
          ) : (
            <span class="badge anon">{t("ctx.notOnSite")}</span>
          )}
        </dd>
        <dt>{live ? t("ctx.currentPage") : t("ctx.lastPage")}</dt>
        <dd dir="auto" data-field="current-page">
          {live?.title && <strong class="page-title"><bdi>{live.title}</bdi></strong>}
          {current ? <Linked text={current} /> : t("ctx.notTracked")}
          {live?.url && <span class="hint">{t("ctx.onThisPage", { time: clock(now - live.page_started_at) })}</span>}
        </dd>
        {live && (
          <>
            <dt>{t("ctx.visit")}</dt>
            <dd>
              {live.pages_viewed} {live.pages_viewed === 1 ? t("ctx.page") : t("ctx.pages")}
              {live.device ? ` · ${live.device}` : ""}
              {live.language ? ` · ${live.language}` : ""}
              {live.returning ? t("ctx.returning") : ""}
              {live.referrer ? <>{t("ctx.from")}<Linked text={live.referrer} /></> : ""}
            </dd>
          </>
        )}
      </dl>
      {attrs.length > 0 && (
        <>
          <h3>{t("ctx.attributes")}</h3>
          <dl class="attrs">
            {attrs.map(([k, val]) => (
              <Fragment key={k}>
                <dt dir="auto">{k}</dt>
                <dd dir="auto">{attrValue(val)}</dd>
              </Fragment>
            ))}
          </dl>
        </>
      )}
      <h3>{t("ctx.pagesVisited")}</h3>
      {v.pages.length ? (
        <ol class="pages" data-testid="pages">
          {v.pages.map((p, i) => (
            <li key={i} dir="auto">
              {p.at && <span class="page-at">{timeOf(p.at)}</span>}
              {p.title && <bdi class="page-title">{p.title}</bdi>}
              <span class="page-url"><Linked text={p.url} /></span>
            </li>
          ))}
        </ol>
      ) : (
        <p class="empty">{t("ctx.noPages")}</p>
      )}
      <h3>{t("ctx.past")}</h3>
      {past.length ? (
        <ul class="past">
          {past.map((c) => (
            <li key={c.id}>
              <button class="link" onClick={() => void store.open(c.id)}>
                #{c.id} · {c.status} · {dateTimeOf(c.created_at)}
              </button>
              <span class="past-preview" dir="auto">
                {c.last_message ? c.last_message.body : t("ctx.noMessages")}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p class="empty">{t("ctx.noPast")}</p>
      )}
    </aside>
  );
}
