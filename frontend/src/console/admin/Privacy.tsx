import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { errorText } from "../errors";
import { t } from "../i18n";

interface Rules {
  message_erasure: "anonymise" | "remove";
  page_view_days: number | null;
  conversation_days: number | null;
}

function days(v: string): number | null {
  const n = Number(v);
  return v.trim() && Number.isInteger(n) && n > 0 ? n : null;
}

// A site's privacy rules: how an erasure treats messages, how long data is kept.
export function PrivacyCard({ siteId }: { siteId: number }) {
  const [rules, setRules] = useState<Rules | null>(null);
  const [pv, setPv] = useState("");
  const [conv, setConv] = useState("");
  const [msg, setMsg] = useState("");
  useEffect(() => {
    api<Rules>("GET", `/api/sites/${siteId}/privacy`).then((r) => {
      setRules(r);
      setPv(r.page_view_days ? String(r.page_view_days) : "");
      setConv(r.conversation_days ? String(r.conversation_days) : "");
    }, (e) => setMsg(errorText(e)));
  }, [siteId]);
  if (!rules) return <p class="hint">{msg || t("priv.loading")}</p>;

  async function save() {
    try {
      const body = { message_erasure: rules!.message_erasure, page_view_days: days(pv), conversation_days: days(conv) };
      setRules(await api<Rules>("PUT", `/api/sites/${siteId}/privacy`, body));
      setMsg(t("priv.saved"));
    } catch (e: any) {
      setMsg(errorText(e));
    }
  }

  return (
    <section class="privacy" aria-label={t("contacts.privacy")}>
      <h4>{t("contacts.privacy")}</h4>
      <label>
        {t("priv.erasing")}
        <select value={rules.message_erasure} onChange={(e) => setRules({ ...rules, message_erasure: e.currentTarget.value as Rules["message_erasure"] })}>
          <option value="anonymise">{t("priv.anonymise")}</option>
          <option value="remove">{t("priv.remove")}</option>
        </select>
      </label>
      <label>
        {t("priv.pageViews")}
        <input inputMode="numeric" value={pv} onInput={(e) => setPv(e.currentTarget.value)} />
      </label>
      <label>
        {t("priv.conversations")}
        <input inputMode="numeric" value={conv} onInput={(e) => setConv(e.currentTarget.value)} />
      </label>
      <button onClick={() => void save()}>{t("priv.save")}</button>
      {msg && <p class="hint" role="status">{msg}</p>}
    </section>
  );
}
