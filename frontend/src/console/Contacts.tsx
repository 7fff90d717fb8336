import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "./api";
import { ContactImport } from "./ContactImport";
import { CONTACTS_PATH, contactLabel, openContact } from "./contactTypes";
import type { ContactBrief, ContactDetail } from "./contactTypes";
import type { Store } from "./store";
import { dateTimeOf } from "./text";
import { errorText } from "./errors";
import { t, tValue } from "./i18n";

function contactIdFromPath(): number | null {
  const m = new RegExp(`^${CONTACTS_PATH}/(\\d+)`).exec(location.pathname);
  return m ? Number(m[1]) : null;
}

// The contacts view: the list (search, import) or, at /console/contacts/<id>, one contact.
export function Contacts({ store, openChat }: { store: Store; openChat: (id: number) => void }) {
  const [id, setId] = useState<number | null>(contactIdFromPath());
  useEffect(() => {
    const onPop = () => setId(contactIdFromPath());
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  return id === null ? <ContactList store={store} /> : <ContactPage key={id} store={store} id={id} openChat={openChat} />;
}

function ContactList({ store }: { store: Store }) {
  const [q, setQ] = useState("");
  const [rows, setRows] = useState<ContactBrief[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [sites, setSites] = useState<{ id: number; name: string }[]>([]);
  const supervises = store.me.role === "admin" || store.me.role === "supervisor";

  async function load(before: number | null = null) {
    const params = new URLSearchParams({ limit: "50" });
    if (q.trim()) params.set("q", q.trim());
    if (before) params.set("before", String(before));
    try {
      const r = await api<{ contacts: ContactBrief[]; next: number | null }>("GET", `/api/contacts?${params}`);
      setRows(before ? [...rows, ...r.contacts] : r.contacts);
      setNext(r.next);
    } catch (e: any) {
      store.flash(errorText(e));
    }
  }
  useEffect(() => {
    void load();
    api<{ id: number; name: string }[]>("GET", "/api/sites").then(setSites, () => setSites([]));
  }, []);

  return (
    <div class="contacts page">
      <h2>{t("contacts.title")}</h2>
      <form
        class="contact-search"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
        }}
      >
        <input type="search" placeholder={t("contacts.searchPlaceholder")} aria-label={t("contacts.search")} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        <button type="submit">{t("contacts.searchButton")}</button>
      </form>
      <table class="contact-list">
        <thead>
          <tr>
            <th>{t("contacts.name")}</th>
            <th>{t("contacts.email")}</th>
            <th>{t("contacts.phone")}</th>
            <th>{t("contacts.tags")}</th>
            <th>{t("contacts.updated")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.id} data-contact={c.id}>
              <td dir="auto">
                <a href={`${CONTACTS_PATH}/${c.id}`} onClick={(e) => { e.preventDefault(); openContact(c.id); }}>
                  {contactLabel(c)}
                </a>
              </td>
              <td dir="auto">{c.email || "—"}</td>
              <td dir="auto">{c.phone || "—"}</td>
              <td dir="auto">{c.tags.join(", ")}</td>
              <td>{dateTimeOf(c.updated_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next && <button onClick={() => void load(next)}>{t("contacts.more")}</button>}
      {supervises && sites.length > 0 && <ContactImport sites={sites} onDone={() => void load()} />}
      {supervises ? (
        <p class="exports">
          {t("contacts.export")} <a href="/api/exports/contacts?format=csv">{t("contacts.exportContacts", { f: "CSV" })}</a> ·{" "}
          <a href="/api/exports/contacts?format=json">{t("contacts.exportContacts", { f: "JSON" })}</a> ·{" "}
          <a href="/api/exports/conversations?format=csv">{t("contacts.exportConversations", { f: "CSV" })}</a> ·{" "}
          <a href="/api/exports/conversations?format=json">{t("contacts.exportConversations", { f: "JSON" })}</a>
        </p>
      ) : null}
    </div>
  );
}

function attrValue(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function ContactPage({ store, id, openChat }: { store: Store; id: number; openChat: (id: number) => void }) {
  const [c, setC] = useState<ContactDetail | null>(null);
  const [missing, setMissing] = useState(false);
  const [note, setNote] = useState("");
  const [tag, setTag] = useState("");
  const [mergeQ, setMergeQ] = useState("");
  const [candidates, setCandidates] = useState<ContactBrief[]>([]);
  const [splitIds, setSplitIds] = useState<number[]>([]);
  const isAdmin = store.me.role === "admin";

  async function run(p: Promise<ContactDetail>) {
    try {
      setC(await p);
    } catch (e: any) {
      store.flash(errorText(e));
    }
  }
  useEffect(() => {
    api<ContactDetail>("GET", `/api/contacts/${id}`).then(setC, () => setMissing(true));
  }, [id]);

  if (missing) return <div class="contact page"><p>{t("err.no_such_contact")}</p></div>;
  if (!c) return <div class="contact page"><p class="loading">{t("contacts.loading")}</p></div>;

  async function findCandidates() {
    const r = await api<{ contacts: ContactBrief[] }>("GET", `/api/contacts?${new URLSearchParams({ q: mergeQ, site_id: String(c!.site_id) })}`);
    setCandidates(r.contacts.filter((x) => x.id !== id));
  }

  async function erase() {
    if (!confirm(t("contacts.confirmErase"))) return;
    try {
      await api("POST", `/api/contacts/${id}/erase`);
      setMissing(true);
    } catch (e: any) {
      store.flash(errorText(e));
    }
  }

  const attrs = Object.entries(c.attributes || {});
  return (
    <div class="contact page" data-contact={c.id}>
      <h2 dir="auto" data-field="contact-name">{contactLabel(c)}</h2>
      <p class="hint">
        {c.site_name || t("contacts.siteN", { id: c.site_id })} · {t("contacts.since", { time: dateTimeOf(c.created_at) })} · {t("contacts.consentIs")}{" "}
        <span data-field="consent">{tValue("consent", c.consent)}</span>
        {c.consent_at ? ` (${dateTimeOf(c.consent_at)})` : ""}
      </p>
      <div class="contact-grid">
        <section>
          <h3>{t("contacts.identities")}</h3>
          <ul class="identities" data-testid="identities">
            {c.identities.map((i) => (
              <li key={i.id} data-identity={i.id}>
                <label>
                  <input
                    type="checkbox"
                    aria-label={t("contacts.splitOff", { kind: tValue("kind", i.kind), value: i.value })}
                    checked={splitIds.includes(i.id)}
                    onChange={(e) => setSplitIds(e.currentTarget.checked ? [...splitIds, i.id] : splitIds.filter((x) => x !== i.id))}
                  />{" "}
                  <span class="kind">{tValue("kind", i.kind)}</span> <span dir="auto">{i.value}</span>
                  {i.verified && <span class="badge verified">{t("contacts.verified")}</span>}
                </label>
              </li>
            ))}
          </ul>
          {splitIds.length > 0 && (
            <button onClick={() => void run(api<ContactDetail>("POST", `/api/contacts/${id}/split`, { identity_ids: splitIds })).then(() => setSplitIds([]))}>
              {t("contacts.split")}
            </button>
          )}
          <h3>{t("contacts.attributes")}</h3>
          {attrs.length ? (
            <dl class="attrs">
              {attrs.map(([k, v]) => (
                <Fragment key={k}>
                  <dt dir="auto">{k}</dt>
                  <dd dir="auto">{attrValue(v)}</dd>
                </Fragment>
              ))}
            </dl>
          ) : (
            <p class="empty">{t("contacts.none")}</p>
          )}
          <h3>{t("contacts.tags")}</h3>
          <ul class="tags" data-testid="tags">
            {c.tags.map((tag) => (
              <li key={tag} dir="auto">
                {tag}{" "}
                <button class="link" aria-label={t("tools.removeTag", { tag })} onClick={() => void run(api("PATCH", `/api/contacts/${id}`, { remove_tags: [tag] }))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (tag.trim()) void run(api("PATCH", `/api/contacts/${id}`, { add_tags: [tag.trim()] })).then(() => setTag(""));
            }}
          >
            <input aria-label={t("contacts.newTag")} placeholder={t("contacts.addTagPlaceholder")} value={tag} onInput={(e) => setTag(e.currentTarget.value)} maxLength={64} />
            <button type="submit">{t("tools.addTag")}</button>
          </form>
          <h3>{t("contacts.consent")}</h3>
          <select aria-label={t("contacts.consent")} value={c.consent} onChange={(e) => void run(api("PATCH", `/api/contacts/${id}`, { consent: e.currentTarget.value }))}>
            {["unknown", "granted", "denied", "withdrawn"].map((s) => (
              <option key={s} value={s}>{tValue("consent", s)}</option>
            ))}
          </select>
        </section>
        <section>
          <h3>{t("contacts.conversations")}</h3>
          {c.conversations.length ? (
            <ul class="past" data-testid="contact-conversations">
              {c.conversations.map((conv) => (
                <li key={conv.id} data-conversation={conv.id}>
                  <button class="link" onClick={() => openChat(conv.id)}>
                    #{conv.id} · {tValue("channel", conv.channel)} · {tValue("status", conv.status)} · {dateTimeOf(conv.created_at)}
                  </button>
                  {conv.subject && <strong dir="auto"> {conv.subject}</strong>}
                  <span class="past-preview" dir="auto">{conv.last_message ? conv.last_message.body : t("ctx.noMessages")}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p class="empty">{t("contacts.noConversations")}</p>
          )}
          <h3>{t("contacts.notes")}</h3>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (note.trim()) void run(api("POST", `/api/contacts/${id}/notes`, { body: note })).then(() => setNote(""));
            }}
          >
            <textarea aria-label={t("contacts.newNote")} rows={3} value={note} onInput={(e) => setNote(e.currentTarget.value)} maxLength={10000} />
            <button type="submit">{t("composer.addNote")}</button>
          </form>
          <ul class="notes" data-testid="notes">
            {c.notes.map((n) => (
              <li key={n.id}>
                <p dir="auto" class="note-body">{n.body}</p>
                <span class="hint">{n.author_name || "—"} · {dateTimeOf(n.created_at)}</span>
              </li>
            ))}
          </ul>
        </section>
      </div>
      <section class="merge">
        <h3>{t("contacts.mergeTitle")}</h3>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void findCandidates();
          }}
        >
          <input aria-label={t("contacts.mergeFind")} placeholder={t("contacts.mergePlaceholder")} value={mergeQ} onInput={(e) => setMergeQ(e.currentTarget.value)} />
          <button type="submit">{t("contacts.find")}</button>
        </form>
        <ul data-testid="merge-candidates">
          {candidates.map((x) => (
            <li key={x.id} data-contact={x.id}>
              <span dir="auto">{contactLabel(x)}</span>{" "}
              <button
                onClick={() => {
                  if (confirm(t("contacts.confirmMerge", { name: contactLabel(x) })))
                    void run(api("POST", `/api/contacts/${id}/merge`, { other_id: x.id })).then(() => setCandidates([]));
                }}
              >
                {t("contacts.merge")}
              </button>
            </li>
          ))}
        </ul>
      </section>
      {isAdmin && (
        <section class="gdpr">
          <h3>{t("contacts.privacy")}</h3>
          <a href={`/api/contacts/${id}/gdpr-export`}>{t("contacts.gdprExport")}</a>{" "}
          <button class="danger" onClick={() => void erase()}>{t("contacts.erase")}</button>
        </section>
      )}
    </div>
  );
}
