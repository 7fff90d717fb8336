import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { errorText } from "../errors";
import { t } from "../i18n";

interface Entry {
  id: number;
  actor: { kind: string; id: number | null; name: string | null };
  action: string;
  target: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  created_at: string;
}

/** What changed between before and after, one line per field (as text, never HTML). */
function changes(e: Entry): string {
  const before = e.before ?? {};
  const after = e.after ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const show = (v: unknown) => (v === undefined ? "—" : JSON.stringify(v));
  return keys
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((k) => `${k}: ${show(before[k])} → ${show(after[k])}`)
    .join("\n");
}

/** The audit log of admin actions, newest first, filtered and paged. */
export function Audit() {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [action, setAction] = useState("");
  const [target, setTarget] = useState("");
  const [error, setError] = useState("");

  async function load(more: boolean) {
    const q = new URLSearchParams({ limit: "50" });
    if (action) q.set("action", action);
    if (target) q.set("target", target);
    if (more && cursor) q.set("cursor", cursor);
    try {
      const page = await api<{ items: Entry[]; next_cursor: string | null }>("GET", `/api/audit?${q}`);
      setEntries(more ? [...entries, ...page.items] : page.items);
      setCursor(page.next_cursor);
      setError("");
    } catch (e: any) {
      setError(errorText(e));
    }
  }

  useEffect(() => {
    void load(false);
  }, []);

  return (
    <section class="admin audit">
      <h2>{t("audit.title")}</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void load(false);
        }}
      >
        <label>{t("audit.action")} <input value={action} placeholder="agent.* | site.update" /* i18n-ignore: an example */ onInput={(e) => setAction(e.currentTarget.value)} /></label>
        <label>{t("audit.target")} <input value={target} placeholder="agent:3" /* i18n-ignore: an example */ onInput={(e) => setTarget(e.currentTarget.value)} /></label>
        <button type="submit">{t("audit.filter")}</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <table class="audit-log">
        <thead><tr><th>{t("audit.when")}</th><th>{t("audit.who")}</th><th>{t("audit.action")}</th><th>{t("audit.target")}</th><th>{t("audit.change")}</th></tr></thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id} data-action={e.action}>
              <td>{new Date(e.created_at).toLocaleString()}</td>
              <td>{e.actor.kind === "system" ? t("audit.system") : `${e.actor.name ?? "?"}${e.actor.kind === "token" ? t("audit.token") : ""}`}</td>
              <td>{e.action}</td>
              <td>{e.target}</td>
              <td><pre>{changes(e)}</pre></td>
            </tr>
          ))}
        </tbody>
      </table>
      {cursor && <button onClick={() => void load(true)}>{t("audit.older")}</button>}
    </section>
  );
}
