// Canned responses: the agent's own and the shared ones (supervisors and admins edit those).
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import type { Canned } from "../canned";
import { t } from "../i18n";
import type { Store } from "../store";
import { errorText } from "../errors";

const EMPTY = { shortcut: "", title: "", body: "", language: "en", shared: false };

export function CannedEditor({ store }: { store: Store }) {
  const [list, setList] = useState<Canned[]>([]);
  const [form, setForm] = useState({ ...EMPTY });
  const [editing, setEditing] = useState<number | null>(null);
  const [msg, setMsg] = useState("");
  const canShare = store.me.role === "admin" || store.me.role === "supervisor";

  const load = () => api<Canned[]>("GET", "/api/canned").then(setList, (e) => setMsg(errorText(e)));
  useEffect(() => void load(), []);

  async function save(e: Event) {
    e.preventDefault();
    try {
      if (editing === null) {
        await api("POST", "/api/canned", form);
        setMsg(t("canned.saved", { s: form.shortcut }));
      } else {
        const { shared: _shared, ...patch } = form;
        await api("PATCH", `/api/canned/${editing}`, patch);
        setMsg(t("canned.updated", { s: form.shortcut }));
      }
      setForm({ ...EMPTY });
      setEditing(null);
      await load();
    } catch (err: any) {
      setMsg(errorText(err));
    }
  }

  async function remove(c: Canned) {
    if (!confirm(t("canned.confirmDelete", { s: c.shortcut }))) return;
    try {
      await api("DELETE", `/api/canned/${c.id}`);
      await load();
    } catch (err: any) {
      setMsg(errorText(err));
    }
  }

  const mayEdit = (c: Canned) => (c.shared ? canShare : c.owner_id === store.me.id);
  return (
    <section class="admin canned-editor">
      <h2>{t("canned.title")}</h2>
      <p class="hint">
        {t("canned.hintType")}<code>/shortcut</code>{t("canned.hintIn")}<code>{"{{visitor.name}}"}</code>,{" "} {/* i18n-ignore: syntax */}
        <code>{"{{visitor.email}}"}</code>, <code>{"{{agent.name}}"}</code>, <code>{"{{site.name}}"}</code>. {/* i18n-ignore */}
      </p>
      <form class="card" onSubmit={save} aria-label={t("canned.form")}>
        <label>
          {t("canned.shortcut")}
          <input
            name="canned-shortcut"
            required
            pattern="[\w-]+"
            maxLength={40}
            value={form.shortcut}
            onInput={(e) => setForm({ ...form, shortcut: e.currentTarget.value })}
          />
        </label>
        <label>
          {t("canned.itemTitle")}
          <input
            name="canned-title"
            required
            maxLength={200}
            value={form.title}
            onInput={(e) => setForm({ ...form, title: e.currentTarget.value })}
          />
        </label>
        <label>
          {t("canned.text")}
          <textarea
            name="canned-body"
            required
            rows={3}
            maxLength={4000}
            value={form.body}
            onInput={(e) => setForm({ ...form, body: e.currentTarget.value })}
          />
        </label>
        <label>
          {t("canned.language")}
          <select
            name="canned-language"
            value={form.language}
            onChange={(e) => setForm({ ...form, language: e.currentTarget.value })}
          >
            <option value="en">English</option> {/* i18n-ignore: language names in their own language */}
            <option value="de">Deutsch</option> {/* i18n-ignore */}
            <option value="da">Dansk</option> {/* i18n-ignore */}
          </select>
        </label>
        {canShare && editing === null && (
          <label>
            <input
              type="checkbox"
              name="canned-shared"
              checked={form.shared}
              onChange={(e) => setForm({ ...form, shared: e.currentTarget.checked })}
            />{" "}
            {t("canned.shared")}
          </label>
        )}
        <button type="submit">{editing === null ? t("canned.add") : t("canned.save")}</button>
        {editing !== null && (
          <button
            type="button"
            onClick={() => {
              setEditing(null);
              setForm({ ...EMPTY });
            }}
          >
            {t("radar.cancel")}
          </button>
        )}
        <p role="status">{msg}</p>
      </form>
      <ul class="canned-list">
        {list.map((c) => (
          <li key={c.id} data-shortcut={c.shortcut}>
            <strong>/{c.shortcut}</strong> {c.title} <small>({c.shared ? t("canned.sharedTag") : t("canned.mineTag")}, {c.language})</small>
            <div class="canned-body" dir="auto">
              {c.body}
            </div>
            {mayEdit(c) && (
              <>
                <button
                  type="button"
                  onClick={() => {
                    setEditing(c.id);
                    setForm({ shortcut: c.shortcut, title: c.title, body: c.body, language: c.language, shared: c.shared });
                  }}
                >
                  {t("canned.edit")}
                </button>
                <button type="button" onClick={() => void remove(c)}>
                  {t("canned.delete")}
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
