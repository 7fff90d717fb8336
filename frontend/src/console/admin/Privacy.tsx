import { useEffect, useState } from "preact/hooks";
import { api } from "../api";

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
    }, (e) => setMsg(e.message));
  }, [siteId]);
  if (!rules) return <p class="hint">{msg || "Loading privacy rules…"}</p>;

  async function save() {
    try {
      const body = { message_erasure: rules!.message_erasure, page_view_days: days(pv), conversation_days: days(conv) };
      setRules(await api<Rules>("PUT", `/api/sites/${siteId}/privacy`, body));
      setMsg("Privacy rules saved.");
    } catch (e: any) {
      setMsg(e.message);
    }
  }

  return (
    <section class="privacy" aria-label="Privacy">
      <h4>Privacy</h4>
      <label>
        Erasing a person
        <select value={rules.message_erasure} onChange={(e) => setRules({ ...rules, message_erasure: e.currentTarget.value as Rules["message_erasure"] })}>
          <option value="anonymise">replaces their messages by “[erased]”</option>
          <option value="remove">removes their messages</option>
        </select>
      </label>
      <label>
        Delete page views after (days, empty: keep)
        <input inputMode="numeric" value={pv} onInput={(e) => setPv(e.currentTarget.value)} />
      </label>
      <label>
        Delete conversations after (days without activity, empty: keep)
        <input inputMode="numeric" value={conv} onInput={(e) => setConv(e.currentTarget.value)} />
      </label>
      <button onClick={() => void save()}>Save privacy rules</button>
      {msg && <p class="hint" role="status">{msg}</p>}
    </section>
  );
}
