import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { errorText } from "../errors";
import { t, tValue } from "../i18n";
import type { Site } from "../types";

interface Subscription {
  id: number;
  name: string;
  url: string;
  event_types: string[];
  site_id: number | null;
  active: boolean;
  allow_private: boolean;
  disabled_reason: string | null;
  secret?: string;
}

interface Attempt {
  number: number;
  at: string;
  status_code: number | null;
  error: string | null;
  response: string;
  duration_ms: number;
}

interface Delivery {
  id: number;
  delivery_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  log: Attempt[];
}

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "");

function SecretOnce({ secret, onDone }: { secret: string; onDone: () => void }) {
  return (
    <div class="card secret" role="status" data-secret>
      <strong>{t("hooks.secretOnce")}</strong>
      <code class="webhook-secret">{secret}</code>
      <button onClick={onDone}>{t("hooks.done")}</button>
    </div>
  );
}

function DeliveryLog({ sub }: { sub: Subscription }) {
  const [rows, setRows] = useState<Delivery[]>([]);
  const [open, setOpen] = useState<number | null>(null);
  const [msg, setMsg] = useState("");

  async function load() {
    try {
      const r = await api<{ deliveries: Delivery[] }>("GET", `/api/webhooks/${sub.id}/deliveries`);
      setRows(r.deliveries);
    } catch (e: any) {
      setMsg(errorText(e));
    }
  }

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 3000);
    return () => clearInterval(timer);
  }, [sub.id]);

  async function resend(d: Delivery) {
    try {
      await api("POST", `/api/webhooks/deliveries/${d.id}/resend`);
      setMsg(t("hooks.resending", { type: d.event_type }));
      await load();
    } catch (e: any) {
      setMsg(errorText(e));
    }
  }

  return (
    <div class="card webhook-log" data-log={sub.id}>
      <h3>
        {t("hooks.log", { name: sub.name || sub.url })} <button onClick={() => void load()}>{t("hooks.refresh")}</button>
      </h3>
      {msg && <p class="info">{msg}</p>}
      {rows.length === 0 && <p class="hint">{t("hooks.nothing")}</p>}
      <table class="agents deliveries">
        <thead>
          <tr>
            <th>{t("rep.created")}</th>
            <th>{t("hooks.event")}</th>
            <th>{t("sup.status")}</th>
            <th>{t("hooks.attempts")}</th>
            <th>{t("hooks.lastAnswer")}</th>
            <th>{t("hooks.nextAttempt")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => [
            <tr key={d.id} data-delivery={d.delivery_id} data-status={d.status}>
              <td>{when(d.created_at)}</td>
              <td>{d.event_type}</td>
              <td class="delivery-status">{tValue("delivery", d.status)}</td>
              <td>
                <button class="link" onClick={() => setOpen(open === d.id ? null : d.id)} aria-expanded={open === d.id}>
                  {d.attempts}
                </button>
              </td>
              <td>{d.last_status ?? d.last_error ?? ""}</td>
              <td>{when(d.next_attempt_at)}</td>
              <td>
                {(d.status === "delivered" || d.status === "failed") && (
                  <button onClick={() => void resend(d)}>{t("hooks.resend")}</button>
                )}
              </td>
            </tr>,
            open === d.id && (
              <tr key={`${d.id}-log`} class="attempts">
                <td colSpan={7}>
                  <ol>
                    {d.log.map((a) => (
                      <li key={a.number}>
                        {t("hooks.attempt", { at: when(a.at), answer: a.status_code ?? t("hooks.noAnswer"), ms: a.duration_ms })}
                        {a.error && <span class="error"> {a.error}</span>}
                        {a.response && <pre>{a.response}</pre>}
                      </li>
                    ))}
                  </ol>
                </td>
              </tr>
            ),
          ])}
        </tbody>
      </table>
    </div>
  );
}

export function Webhooks() {
  const [subs, setSubs] = useState<Subscription[]>([]);
  const [types, setTypes] = useState<string[]>([]);
  const [sites, setSites] = useState<Site[]>([]);
  const [form, setForm] = useState({ name: "", url: "", site: "", allow_private: false });
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [secret, setSecret] = useState("");
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    api<Subscription[]>("GET", "/api/webhooks").then(setSubs, (e) => setError(errorText(e)));
    api<string[]>("GET", "/api/webhooks/event-types").then(setTypes, (e) => setError(errorText(e)));
    api<Site[]>("GET", "/api/sites").then(setSites, () => undefined);
  }, []);

  const replace = (s: Subscription) => setSubs(subs.map((x) => (x.id === s.id ? s : x)));

  async function create(e: Event) {
    e.preventDefault();
    setError("");
    try {
      const s = await api<Subscription>("POST", "/api/webhooks", {
        name: form.name,
        url: form.url,
        event_types: [...chosen],
        site_id: form.site ? Number(form.site) : null,
        allow_private: form.allow_private,
      });
      setSecret(s.secret ?? "");
      setSubs([...subs, { ...s, secret: undefined }]);
      setForm({ name: "", url: "", site: "", allow_private: false });
      setChosen(new Set());
      setSelected(s.id);
    } catch (err: any) {
      setError(errorText(err));
    }
  }

  async function act(s: Subscription, what: "toggle" | "rotate" | "delete") {
    setError("");
    try {
      if (what === "toggle") replace(await api<Subscription>("PATCH", `/api/webhooks/${s.id}`, { active: !s.active }));
      if (what === "rotate") setSecret((await api<Subscription>("POST", `/api/webhooks/${s.id}/rotate-secret`)).secret ?? "");
      if (what === "delete" && confirm(t("hooks.confirmDelete", { url: s.url }))) {
        await api("DELETE", `/api/webhooks/${s.id}`);
        setSubs(subs.filter((x) => x.id !== s.id));
        if (selected === s.id) setSelected(null);
      }
    } catch (err: any) {
      setError(errorText(err));
    }
  }

  const toggleType = (type: string) => {
    const next = new Set(chosen);
    if (next.has(type)) next.delete(type);
    else next.add(type);
    setChosen(next);
  };
  const siteName = (id: number | null) => (id === null ? t("rep.allSites") : sites.find((x) => x.id === id)?.name ?? `#${id}`);
  const current = subs.find((s) => s.id === selected);

  return (
    <section class="admin webhooks">
      <h2>{t("nav.webhooks")}</h2>
      {secret && <SecretOnce secret={secret} onDone={() => setSecret("")} />}
      <form class="card create" onSubmit={create} aria-label={t("hooks.create")}>
        <h3>{t("hooks.new")}</h3>
        <label>{t("contacts.name")} <input name="name" value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} /></label>
        <label>{t("hooks.url")} <input name="url" type="url" required value={form.url} onInput={(e) => setForm({ ...form, url: e.currentTarget.value })} /></label>
        <fieldset class="event-types">
          <legend>{t("hooks.events")}</legend>
          {types.map((type) => (
            <label class="check" key={type}>
              <input type="checkbox" name="event" value={type} checked={chosen.has(type)} onChange={() => toggleType(type)} /> {type}
            </label>
          ))}
        </fieldset>
        <label>{t("kb.site")}
          <select name="site" value={form.site} onChange={(e) => setForm({ ...form, site: e.currentTarget.value })}>
            <option value="">{t("rep.allSites")}</option>
            {sites.map((s) => <option key={s.id} value={String(s.id)}>{s.name}</option>)}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" name="allow_private" checked={form.allow_private} onChange={(e) => setForm({ ...form, allow_private: e.currentTarget.checked })} />
          {t("hooks.allowPrivate")}
        </label>
        <button type="submit" disabled={chosen.size === 0}>{t("hooks.create")}</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
      <table class="agents subscriptions">
        <thead>
          <tr><th>{t("contacts.name")}</th><th>{t("hooks.target")}</th><th>{t("hooks.events")}</th><th>{t("kb.site")}</th><th>{t("hooks.state")}</th><th /></tr>
        </thead>
        <tbody>
          {subs.map((s) => (
            <tr key={s.id} data-webhook={s.id}>
              <td>{s.name}</td>
              <td>{s.url}</td>
              <td>{s.event_types.join(", ")}</td>
              <td>{siteName(s.site_id)}</td>
              <td>{s.active ? t("hooks.on") : `${t("hooks.off")}${s.disabled_reason ? `: ${s.disabled_reason}` : ""}`}</td>
              <td>
                <button onClick={() => setSelected(s.id)}>{t("hooks.deliveries")}</button>{" "}
                <button onClick={() => void act(s, "toggle")}>{s.active ? t("hooks.switchOff") : t("hooks.switchOn")}</button>{" "}
                <button onClick={() => void act(s, "rotate")}>{t("hooks.rotate")}</button>{" "}
                <button onClick={() => void act(s, "delete")}>{t("canned.delete")}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {current && <DeliveryLog key={current.id} sub={current} />}
    </section>
  );
}
