// The reader's own summary mail: daily, weekly or off, time zone, local hour, sites and
// address (GET/PUT /api/reports/digest; docs/reports.md, "Summary mail").
import { useEffect, useState } from "preact/hooks";
import { isolate } from "../../shared/bidi";
import { api } from "../api";
import { errorText } from "../errors";
import { lang, t, tValue } from "../i18n";

interface Digest {
  frequency: "off" | "daily" | "weekly";
  time_zone: string;
  hour: number;
  site_ids: number[];
  email: string;
  recent: { period: string; status: string; sent_at: string | null; error: string | null }[];
}

const ZONES: string[] = (Intl as any).supportedValuesOf ? (Intl as any).supportedValuesOf("timeZone") : [];
const HERE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function DigestSettings(props: { sites: { id: number; name: string }[] }) {
  const [d, setD] = useState<Digest | null>(null);
  const [note, setNote] = useState("");
  useEffect(() => {
    api<Digest>("GET", "/api/reports/digest").then(
      (r) => setD(r.frequency === "off" && r.time_zone === "UTC" ? { ...r, time_zone: HERE } : r),
      (e) => setNote(errorText(e)),
    );
  }, []);
  if (!d) return note ? <p class="error" role="alert">{note}</p> : null;
  const set = (patch: Partial<Digest>) => setD({ ...d, ...patch });
  async function save(e: Event) {
    e.preventDefault();
    if (!d) return;
    try {
      const { frequency, time_zone, hour, site_ids, email } = d;
      setD(await api<Digest>("PUT", "/api/reports/digest", { frequency, time_zone, hour, site_ids, email, language: lang() }));
      setNote(t("rep.digestSaved"));
    } catch (err) {
      setNote(errorText(err));
    }
  }
  const last = d.recent[0];
  return (
    <section class="digest" aria-label={t("rep.digest")}>
      <h3>{t("rep.digest")}</h3>
      <p class="hint">{t("rep.digestHint")}</p>
      <form class="digest-form" onSubmit={save}>
        <select name="digest-frequency" aria-label={t("rep.digest")} value={d.frequency} onChange={(e) => set({ frequency: e.currentTarget.value as Digest["frequency"] })}>
          <option value="off">{t("rep.digestOff")}</option>
          <option value="daily">{t("rep.digestDaily")}</option>
          <option value="weekly">{t("rep.digestWeekly")}</option>
        </select>
        <label>
          {t("rep.digestEmail")} <input type="email" name="digest-email" value={d.email} onInput={(e) => set({ email: e.currentTarget.value })} />
        </label>
        <label>
          {t("rep.digestZone")}{" "}
          <input name="digest-zone" list="digest-zones" value={d.time_zone} onInput={(e) => set({ time_zone: e.currentTarget.value.trim() })} />
        </label>
        <datalist id="digest-zones">
          {ZONES.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <label>
          {t("rep.digestHour")}{" "}
          <input type="number" name="digest-hour" min={0} max={23} value={d.hour} onInput={(e) => set({ hour: Number(e.currentTarget.value) })} />
        </label>
        {props.sites.length > 1 && (
          <fieldset>
            <legend>{t("rep.digestSites")}</legend>
            {props.sites.map((s) => (
              <label key={s.id}>
                <input
                  type="checkbox"
                  checked={d.site_ids.includes(s.id)}
                  onChange={(e) => set({ site_ids: e.currentTarget.checked ? [...d.site_ids, s.id] : d.site_ids.filter((x) => x !== s.id) })}
                />{" "}
                {isolate(s.name)}
              </label>
            ))}
          </fieldset>
        )}
        <button type="submit">{t("rep.digestSave")}</button>
      </form>
      {note && <p class="hint" role="status">{note}</p>}
      {last && (
        <p class="hint" data-testid="digest-last">
          {t("rep.digestLast", { period: last.period, status: tValue("digest", last.status) })}
        </p>
      )}
    </section>
  );
}
