// Re-engagement and timers of a site (docs/lifecycle.md): the admin's form.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { errorText } from "../errors";
import { t, tValue } from "../i18n";

interface Settings {
  silent_after_seconds: number;
  auto_nudge: boolean;
  close_after_minutes: number;
  wait_highlight_seconds: number;
  nudge_texts: Record<string, string>;
  closing_texts: Record<string, string>;
  rating_scale: "stars" | "thumbs";
  stored?: boolean;
}

const LANGS = ["de", "en", "da"];

export function LifecycleCard({ siteId }: { siteId: number }) {
  const [skill, setSkill] = useState("");
  const [s, setS] = useState<Settings | null>(null);
  const [msg, setMsg] = useState("");
  const q = skill ? `?skill=${encodeURIComponent(skill)}` : "";

  useEffect(() => {
    api<Settings>("GET", `/api/sites/${siteId}/lifecycle${q}`).then(setS, (e) => setMsg(errorText(e)));
  }, [siteId, q]);

  if (!s) return <p>{msg || t("life.loading")}</p>;
  const set = (patch: Partial<Settings>) => setS({ ...s, ...patch });
  const save = async (ev: Event) => {
    ev.preventDefault();
    try {
      const { stored: _stored, ...body } = s;
      setS(await api<Settings>("PUT", `/api/sites/${siteId}/lifecycle${q}`, body));
      setMsg(t("life.saved"));
    } catch (e: any) {
      setMsg(errorText(e));
    }
  };
  const num = (v: string) => Math.max(0, parseInt(v, 10) || 0);
  return (
    <form class="lifecycle-settings" data-lifecycle-settings={siteId} onSubmit={save}>
      <h4>{t("life.title")}</h4>
      <label>
        {t("life.skill")}
        <input value={skill} maxLength={64} onChange={(e) => setSkill(e.currentTarget.value.trim())} />
      </label>
      <label>
        {t("life.silentAfter")}
        <input type="number" name="silent_after_seconds" min={5} value={s.silent_after_seconds} onInput={(e) => set({ silent_after_seconds: num(e.currentTarget.value) })} />
      </label>
      <label class="check">
        <input type="checkbox" name="auto_nudge" checked={s.auto_nudge} onChange={(e) => set({ auto_nudge: e.currentTarget.checked })} />
        {t("life.autoNudge")}
      </label>
      <label>
        {t("life.closeAfter")}
        <input type="number" name="close_after_minutes" min={0} value={s.close_after_minutes} onInput={(e) => set({ close_after_minutes: num(e.currentTarget.value) })} />
      </label>
      <label>
        {t("life.waitHighlight")}
        <input type="number" name="wait_highlight_seconds" min={1} value={s.wait_highlight_seconds} onInput={(e) => set({ wait_highlight_seconds: num(e.currentTarget.value) })} />
      </label>
      <label>
        {t("life.ratingScale")}
        <select value={s.rating_scale} onChange={(e) => set({ rating_scale: e.currentTarget.value as Settings["rating_scale"] })}>
          <option value="stars">{t("life.stars")}</option>
          <option value="thumbs">{t("life.thumbs")}</option>
        </select>
      </label>
      {LANGS.map((lang) => (
        <label key={`n${lang}`}>
          {t("life.nudgeText", { lang })}
          <textarea rows={2} maxLength={1000} value={s.nudge_texts[lang] || ""} onInput={(e) => set({ nudge_texts: { ...s.nudge_texts, [lang]: e.currentTarget.value } })} />
        </label>
      ))}
      {LANGS.map((lang) => (
        <label key={`c${lang}`}>
          {t("life.closingText", { lang })}
          <textarea rows={2} maxLength={1000} value={s.closing_texts[lang] || ""} onInput={(e) => set({ closing_texts: { ...s.closing_texts, [lang]: e.currentTarget.value } })} />
        </label>
      ))}
      <button type="submit">{t("life.save")}</button>
      {msg && <p role="status">{msg}</p>}
    </form>
  );
}
