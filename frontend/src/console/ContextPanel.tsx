import { Fragment } from "preact";
import type { Store } from "./store";
import { Linkified, dateTimeOf, duration } from "./text";

function attrValue(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

export function ContextPanel({ store, convId }: { store: Store; convId: number }) {
  const conv = store.convs.get(convId);
  const v = conv ? store.visitors.get(conv.visitor_id) : undefined;
  if (!conv) return null;
  if (!v) return <aside class="context">Loading visitor…</aside>;
  const attrs = Object.entries(v.attributes || {});
  const past = v.conversations.filter((c) => c.id !== convId);
  const onSite =
    typeof v.time_on_site_seconds === "number" ? duration(v.time_on_site_seconds) : null;
  return (
    <aside class="context" aria-label="Visitor context" data-visitor={v.id}>
      <h3>Visitor</h3>
      <dl>
        <dt>Identity</dt>
        <dd>
          {v.verified ? (
            <span class="badge verified">Verified</span>
          ) : (
            <span class="badge anon">Anonymous</span>
          )}
        </dd>
        <dt>Name</dt>
        <dd dir="auto" data-field="name">{v.name || "—"}</dd>
        <dt>Email</dt>
        <dd dir="auto" data-field="email">{v.email || "—"}</dd>
        <dt>External id</dt>
        <dd dir="auto" data-field="external_id">{v.external_id || "—"}</dd>
        <dt>Site</dt>
        <dd dir="auto">{v.site_name || `#${v.site_id}`}</dd>
        <dt>First seen</dt>
        <dd>{dateTimeOf(v.created_at)}</dd>
        <dt>Last seen</dt>
        <dd>{dateTimeOf(v.last_seen_at)}</dd>
        <dt>Time on site</dt>
        <dd>{onSite ?? "not known"}</dd>
        <dt>Current page</dt>
        <dd dir="auto">{v.current_page ? <Linkified text={v.current_page} /> : "not tracked yet"}</dd>
      </dl>
      {attrs.length > 0 && (
        <>
          <h3>Attributes</h3>
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
      <h3>Pages visited</h3>
      {v.pages.length ? (
        <ol class="pages">
          {v.pages.map((p, i) => (
            <li key={i} dir="auto">
              <Linkified text={p.url} />
            </li>
          ))}
        </ol>
      ) : (
        <p class="empty">No page history yet.</p>
      )}
      <h3>Past conversations</h3>
      {past.length ? (
        <ul class="past">
          {past.map((c) => (
            <li key={c.id}>
              <button class="link" onClick={() => void store.open(c.id)}>
                #{c.id} · {c.status} · {dateTimeOf(c.created_at)}
              </button>
              <span class="past-preview" dir="auto">
                {c.last_message ? c.last_message.body : "(no messages)"}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p class="empty">None before this one.</p>
      )}
    </aside>
  );
}
