// The knowledge base: every agent searches and reads it; supervisors and admins write it.
// Article HTML comes from the server, rendered from Markdown and sanitised there (nh3).
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { errorText } from "../errors";
import { t } from "../i18n";
import type { Store } from "../store";

interface SiteBrief {
  id: number;
  name: string;
}
interface Category {
  id: number;
  name: string;
  language: string;
}
interface Article {
  id: number;
  title: string;
  language: string;
  category_id: number | null;
  keywords: string[];
  published: boolean;
  excerpt?: string;
  body?: string;
  html?: string;
}

const EMPTY = { title: "", body: "", language: "en", category_id: "", keywords: "", published: true };

export function KnowledgeBase({ store }: { store: Store }) {
  const canWrite = store.me.role === "admin" || store.me.role === "supervisor";
  const [sites, setSites] = useState<SiteBrief[]>([]);
  const [siteId, setSiteId] = useState<number | null>(null);
  const [cats, setCats] = useState<Category[]>([]);
  const [list, setList] = useState<Article[]>([]);
  const [q, setQ] = useState("");
  const [open, setOpen] = useState<Article | null>(null);
  const [form, setForm] = useState({ ...EMPTY });
  const [editing, setEditing] = useState<number | null>(null);
  const [msg, setMsg] = useState("");

  useEffect(() => {
    api<SiteBrief[]>("GET", "/api/kb/sites").then((r) => {
      setSites(r);
      if (r.length) setSiteId(r[0].id);
    });
  }, []);

  async function load() {
    if (siteId === null) return;
    const params = new URLSearchParams({ site_id: String(siteId) });
    if (q.trim()) params.set("q", q.trim());
    setList(await api<Article[]>("GET", `/api/kb/articles?${params}`));
    setCats(await api<Category[]>("GET", `/api/kb/categories?site_id=${siteId}`));
  }
  useEffect(() => void load().catch((e) => setMsg(errorText(e))), [siteId]);

  async function save(e: Event) {
    e.preventDefault();
    const body = {
      title: form.title,
      body: form.body,
      language: form.language,
      category_id: form.category_id ? Number(form.category_id) : null,
      keywords: form.keywords.split(",").map((k) => k.trim()).filter(Boolean),
      published: form.published,
    };
    try {
      const saved =
        editing === null
          ? await api<Article>("POST", "/api/kb/articles", { ...body, site_id: siteId })
          : await api<Article>("PATCH", `/api/kb/articles/${editing}`, body);
      setMsg(t("kb.saved", { title: saved.title }));
      setOpen(saved);
      setEditing(null);
      setForm({ ...EMPTY });
      await load();
    } catch (err: any) {
      setMsg(errorText(err));
    }
  }

  async function show(a: Article) {
    setOpen(await api<Article>("GET", `/api/kb/articles/${a.id}`));
  }

  function edit(a: Article) {
    setEditing(a.id);
    setForm({
      title: a.title,
      body: a.body ?? "",
      language: a.language,
      category_id: a.category_id === null ? "" : String(a.category_id),
      keywords: a.keywords.join(", "),
      published: a.published,
    });
  }

  async function remove(a: Article) {
    if (!confirm(t("kb.confirmDelete", { title: a.title }))) return;
    await api("DELETE", `/api/kb/articles/${a.id}`);
    setOpen(null);
    await load();
  }

  return (
    <section class="admin kb">
      <h2>{t("nav.kb")}</h2>
      {sites.length > 1 && (
        <label>
          {t("kb.site")}{" "}
          <select name="kb-site" value={siteId ?? ""} onChange={(e) => setSiteId(Number(e.currentTarget.value))}>
            {sites.map((s) => (
              <option value={s.id}>{s.name}</option>
            ))}
          </select>
        </label>
      )}
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
        }}
      >
        <label>
          {t("kb.search")}{" "}
          <input type="search" name="kb-search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        </label>
        <button type="submit">{t("contacts.searchButton")}</button>
      </form>
      <ul class="kb-list">
        {list.map((a) => (
          <li key={a.id} data-article={a.id}>
            <button type="button" class="link" onClick={() => void show(a)}>
              {a.title}
            </button>{" "}
            <small>
              ({a.language}
              {a.published ? "" : t("kb.draft")})
            </small>
            {a.excerpt && <div class="kb-excerpt" dir="auto">{a.excerpt}</div>}
          </li>
        ))}
      </ul>
      {open && (
        <article class="card kb-article" aria-label={open.title}>
          <h3 dir="auto">{open.title}</h3>
          <div class="kb-html" dir="auto" dangerouslySetInnerHTML={{ __html: open.html ?? "" }} />
          {canWrite && (
            <>
              <button type="button" onClick={() => edit(open)}>
                {t("canned.edit")}
              </button>
              <button type="button" onClick={() => void remove(open)}>
                {t("canned.delete")}
              </button>
            </>
          )}
        </article>
      )}
      {canWrite && (
        <form class="card" onSubmit={save} aria-label={t("kb.article")}>
          <h3>{editing === null ? t("kb.new") : t("kb.edit")}</h3>
          <label>
            {t("kb.title")}
            <input name="kb-title" required maxLength={300} value={form.title} onInput={(e) => setForm({ ...form, title: e.currentTarget.value })} />
          </label>
          <label>
            {t("kb.text")}
            <textarea name="kb-body" required rows={8} maxLength={20000} value={form.body} onInput={(e) => setForm({ ...form, body: e.currentTarget.value })} />
          </label>
          <label>
            {t("canned.language")}
            <select name="kb-language" value={form.language} onChange={(e) => setForm({ ...form, language: e.currentTarget.value })}>
              <option value="en">English</option> {/* i18n-ignore: language names in their own language */}
              <option value="de">Deutsch</option> {/* i18n-ignore */}
              <option value="da">Dansk</option> {/* i18n-ignore */}
            </select>
          </label>
          <label>
            {t("kb.category")}
            <select name="kb-category" value={form.category_id} onChange={(e) => setForm({ ...form, category_id: e.currentTarget.value })}>
              <option value="">{t("kb.noCategory")}</option>
              {cats.map((c) => (
                <option value={c.id}>
                  {c.name} ({c.language})
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("kb.keywords")}
            <input name="kb-keywords" value={form.keywords} onInput={(e) => setForm({ ...form, keywords: e.currentTarget.value })} />
          </label>
          <label>
            <input type="checkbox" name="kb-published" checked={form.published} onChange={(e) => setForm({ ...form, published: e.currentTarget.checked })} /> {t("kb.published")}
          </label>
          <button type="submit">{editing === null ? t("kb.add") : t("kb.save")}</button>
        </form>
      )}
      <p role="status">{msg}</p>
    </section>
  );
}
