import { useState } from "preact/hooks";
import { ApiError, getCsrf } from "./api";
import type { ImportReport } from "./contactTypes";
import { errorText } from "./errors";
import { t } from "./i18n";

const FIELDS = ["ignore", "name", "email", "phone", "external_id", "whatsapp", "telegram", "messenger", "tags", "consent"];

function headerOf(text: string): string[] {
  const first = text.replace(/^\ufeff/, "").split(/\r?\n/, 1)[0] || "";
  const sep = [",", ";", "\t"].reduce((a, b) => (first.split(b).length > first.split(a).length ? b : a));
  return first.split(sep).map((h) => h.replace(/^"|"$/g, "").trim());
}

function guess(column: string): string {
  const c = column.toLowerCase().replace(/[\s-]/g, "");
  if (c.includes("mail")) return "email";
  if (c.includes("phone") || c.includes("tel") || c.includes("mobil")) return "phone";
  if (c.includes("name")) return "name";
  if (FIELDS.includes(c)) return c;
  return `attributes.${column.slice(0, 64)}`;
}

// CSV import: pick a file and a site, map the columns, try a dry run, then import.
export function ContactImport({ sites, onDone }: { sites: { id: number; name: string }[]; onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [columns, setColumns] = useState<string[]>([]);
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [site, setSite] = useState<number | null>(sites[0]?.id ?? null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState("");

  async function pick(f: File | null) {
    setFile(f);
    setReport(null);
    if (!f) return;
    const cols = headerOf(await f.slice(0, 64 * 1024).text());
    setColumns(cols);
    setMapping(Object.fromEntries(cols.map((c) => [c, guess(c)])));
  }

  async function run(dryRun: boolean) {
    if (!file || site === null) return;
    setError("");
    const params = new URLSearchParams({ site_id: String(site), dry_run: String(dryRun), mapping: JSON.stringify(mapping) });
    const res = await fetch(`/api/contacts/import?${params}`, {
      method: "POST",
      headers: { "Content-Type": "text/csv", "X-CSRF-Token": getCsrf() },
      credentials: "same-origin",
      body: file,
    });
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      setError(errorText(new ApiError(res.status, (data && data.code) || "http_error", (data && data.message) || "")));
      return;
    }
    setReport(data as ImportReport);
    if (!dryRun) onDone();
  }

  return (
    <section class="card contact-import" aria-label={t("import.label")}>
      <h3>{t("import.title")}</h3>
      <label>
        {t("import.file")} <input type="file" accept=".csv,text/csv" onChange={(e) => void pick(e.currentTarget.files?.[0] ?? null)} />
      </label>
      <label>
        {t("kb.site")}
        <select value={site ?? ""} onChange={(e) => setSite(Number(e.currentTarget.value))}>
          {sites.map((s) => (
            <option key={s.id} value={s.id}>{s.name}</option>
          ))}
        </select>
      </label>
      {columns.length > 0 && (
        <table class="mapping">
          <tbody>
            {columns.map((c) => (
              <tr key={c}>
                <td dir="auto">{c}</td>
                <td>
                  <input
                    aria-label={t("import.fieldFor", { column: c })}
                    list="contact-fields"
                    value={mapping[c]}
                    onInput={(e) => setMapping({ ...mapping, [c]: e.currentTarget.value })}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <datalist id="contact-fields">
        {FIELDS.map((f) => (
          <option key={f} value={f} />
        ))}
      </datalist>
      <button disabled={!file} onClick={() => void run(true)}>{t("import.dryRun")}</button>{" "}
      <button disabled={!file} onClick={() => void run(false)}>{t("import.import")}</button>
      {error && <p class="error" role="alert">{error}</p>}
      {report && (
        <div class="import-report" data-testid="import-report">
          <p>
            {t(report.dry_run ? "import.dryRunReport" : "import.report", {
              rows: report.rows,
              created: report.created,
              updated: report.updated,
              errors: report.error_count,
            })}
          </p>
          {report.errors.length > 0 && (
            <ul>
              {report.errors.map((e, i) => (
                <li key={i} dir="auto">
                  {t("import.row", { row: e.row })}
                  {e.column ? ` (${e.column})` : ""}: {e.error}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
