// Live visitors on the site ("radar"): filter, sort, and invite one by hand.
import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import { clock, useNow } from "./hooks";
import type { Store } from "./store";
import { t } from "./i18n";
import type { RadarVisitor } from "./types";
import { errorText } from "./errors";

type SortKey = "site" | "pages" | "page";

/** The default invitation, in the visitor's language (de, da, else en). */
export const INVITE_TEXT: Record<string, string> = {
  de: "Hallo! Kann ich Ihnen helfen?",
  en: "Hello! Can I help you?",
  da: "Hej! Kan jeg hjælpe dig?",
};

export function inviteText(language: string | null): string {
  const lang = (language || "en").slice(0, 2).toLowerCase();
  return INVITE_TEXT[lang] ?? INVITE_TEXT.en;
}

/** Summed focused time of the visit, running while one of its tabs has the focus. */
export function timeSpent(v: RadarVisitor, now: number): number {
  return (v.time_on_site ?? 0) + (v.focused && v.at ? Math.max(0, now - v.at) : 0);
}

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

interface Filter {
  text: string;
  device: string;
  returning: string;
  segment: string;
}

function matches(v: RadarVisitor, f: Filter): boolean {
  const text = f.text.trim().toLowerCase();
  if (text && !`${v.id} ${v.url} ${v.title} ${v.referrer ?? ""}`.toLowerCase().includes(text)) return false;
  if (f.device && v.device !== f.device) return false;
  if (f.returning && String(v.returning) !== f.returning) return false;
  if (f.segment && (v.segment ?? "") !== (f.segment === "-" ? "" : f.segment)) return false;
  return true;
}

function sorted(list: RadarVisitor[], key: SortKey): RadarVisitor[] {
  const by: Record<SortKey, (v: RadarVisitor) => number> = {
    site: (v) => v.site_started_at,
    page: (v) => v.page_started_at,
    pages: (v) => -v.pages_viewed,
  };
  return [...list].sort((a, b) => by[key](a) - by[key](b) || a.id - b.id);
}

function InviteForm({ store, v, onDone }: { store: Store; v: RadarVisitor; onDone: () => void }) {
  const [text, setText] = useState(inviteText(v.language));
  const [error, setError] = useState("");
  async function send(e: Event) {
    e.preventDefault();
    try {
      await store.invite(v.id, text.trim());
      store.flash(t("radar.sent", { id: v.id }));
      onDone();
    } catch (err: any) {
      setError(errorText(err));
    }
  }
  return (
    <form class="invite-form" onSubmit={send} aria-label={t("radar.inviteForm", { id: v.id })}>
      <textarea name="invite-text" rows={2} value={text} maxLength={1000} dir="auto" onInput={(e) => setText(e.currentTarget.value)} required />
      <button type="submit" class="primary">{t("radar.send")}</button>
      <button type="button" onClick={onDone}>{t("radar.cancel")}</button>
      {error && <span class="error" role="alert">{error}</span>}
    </form>
  );
}

export function Radar({ store }: { store: Store }) {
  const now = useNow();
  const [filter, setFilter] = useState<Filter>({ text: "", device: "", returning: "", segment: "" });
  const [sort, setSort] = useState<SortKey>("site");
  const [inviting, setInviting] = useState<number | null>(null);
  // Radar frames reach only consoles that subscribed: subscribe while this view is shown.
  useEffect(() => store.radar.show(), [store]);
  const all = [...store.radar.visitors.values()];
  const list = sorted(all.filter((v) => matches(v, filter)), sort);
  const devices = [...new Set(all.map((v) => v.device).filter(Boolean))] as string[];
  const segments = [...new Set(all.map((v) => v.segment).filter(Boolean))] as string[];
  const set = (k: keyof Filter) => (e: any) => setFilter({ ...filter, [k]: e.currentTarget.value });

  return (
    <section class="admin radar" aria-label={t("radar.label")}>
      <h2>
        {t("radar.title")}{" "}
        {store.radar.live && <span class="count" data-testid="radar-count">{all.length}</span>}
      </h2>
      <div class="filters">
        <input name="radar-text" type="search" placeholder={t("radar.filter")} aria-label={t("radar.filter")} value={filter.text} onInput={set("text")} />
        <select name="radar-device" value={filter.device} onChange={set("device")} aria-label={t("radar.device")}>
          <option value="">{t("radar.anyDevice")}</option>
          {["desktop", "mobile", "tablet", ...devices.filter((d) => !["desktop", "mobile", "tablet"].includes(d))].map((d) => (
            <option key={d} value={d}>{d}</option>
          ))}
        </select>
        <select name="radar-returning" value={filter.returning} onChange={set("returning")} aria-label={t("radar.returning")}>
          <option value="">{t("radar.newAndReturning")}</option>
          <option value="true">{t("radar.returning")}</option>
          <option value="false">{t("radar.new")}</option>
        </select>
        <select name="radar-segment" value={filter.segment} onChange={set("segment")} aria-label={t("radar.segment")}>
          <option value="">{t("radar.anySegment")}</option>
          <option value="-">{t("radar.noSegment")}</option>
          {segments.map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
        </select>
        <label>
          {t("radar.sortBy")}{" "}
          <select name="radar-sort" value={sort} onChange={(e) => setSort(e.currentTarget.value as SortKey)}>
            <option value="site">{t("radar.timeOnSite")}</option>
            <option value="pages">{t("radar.pagesViewed")}</option>
            <option value="page">{t("radar.timeOnPage")}</option>
          </select>
        </label>
      </div>
      {list.length === 0 ? (
        <p class="empty">
          {!store.radar.live ? t("radar.loading") : all.length ? t("radar.noMatch") : t("radar.nobody")}
        </p>
      ) : (
        <table class="radar-list">
          <thead>
            <tr>
              <th>{t("radar.thVisitor")}</th><th>{t("radar.thPage")}</th><th>{t("radar.thOnPage")}</th>
              <th>{t("radar.thOnSite")}</th><th>{t("radar.thSpent")}</th><th>{t("radar.thPages")}</th>
              <th>{t("radar.thTabs")}</th><th>{t("radar.device")}</th><th>{t("radar.thLang")}</th>
              <th>{t("radar.segment")}</th><th>{t("radar.thState")}</th><th />
            </tr>
          </thead>
          <tbody>
            {list.map((v) => (
              <Fragment key={v.id}>
                <tr data-visitor={v.id} class={v.chatting ? "chatting" : v.invited ? "invited" : ""}>
                  <td>
                    #{v.id}
                    {v.returning ? <span class="badge returning">{t("radar.badgeReturning")}</span> : <span class="badge new">{t("radar.badgeNew")}</span>}
                  </td>
                  <td class="page-cell">
                    <span class="page-title" dir="auto">{v.title || t("radar.untitled")}</span>
                    <span class="page-url" dir="auto" title={v.url}>{pathOf(v.url)}</span>
                  </td>
                  <td data-field="time-on-page">{clock(now - v.page_started_at)}</td>
                  <td data-field="time-on-site">{clock(now - v.site_started_at)}</td>
                  <td data-field="time-spent" title={t("radar.spentTitle")}>{clock(timeSpent(v, now))}</td>
                  <td>
                    <details class="journey">
                      <summary data-field="pages">{v.pages_viewed}</summary>
                      <ol>
                        {(v.pages || []).map((p, i) => (
                          <li key={i} data-field="journey-page">
                            <span dir="auto">{p.title || pathOf(p.url)}</span> <span class="journey-url">{pathOf(p.url)}</span>{" "}
                            <span data-field="page-seconds">{clock(p.seconds)}</span>
                          </li>
                        ))}
                      </ol>
                    </details>
                  </td>
                  <td data-field="tabs">{v.tabs ?? 1}</td>
                  <td>{v.device || "—"}</td>
                  <td>{v.language || "—"}</td>
                  <td>{v.segment || "—"}</td>
                  <td data-field="state">
                    {v.chatting ? <span class="badge chatting">{t("radar.chatting")}</span> : v.invited ? <span class="badge invited">{t("radar.invited")}</span> : t("radar.browsing")}
                  </td>
                  <td>
                    <button disabled={v.chatting || v.invited} onClick={() => setInviting(inviting === v.id ? null : v.id)}>
                      {t("radar.invite")}
                    </button>
                  </td>
                </tr>
                {inviting === v.id && (
                  <tr class="invite-row">
                    <td colSpan={12}>
                      <InviteForm store={store} v={v} onDone={() => setInviting(null)} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
