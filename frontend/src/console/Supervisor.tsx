import { isolate } from "../shared/bidi";
// Supervisor view (admins and supervisors): queues, agents' load, waiting chats; take or reassign;
// the email backlog and each agent's email work, with a toggle "chat only / chat + email".
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api";
import { clock, useNow } from "./hooks";
import type { Store } from "./store";
import { t } from "./i18n";
import type { Overview } from "./types";
import { errorText } from "./errors";

const REFRESH_MS = 3000;

function Reassign({ store, convId, agents }: { store: Store; convId: number; agents: Overview["agents"] }) {
  const [to, setTo] = useState("");
  return (
    <span class="reassign">
      <select name="reassign-to" value={to} onChange={(e) => setTo(e.currentTarget.value)} aria-label={t("sup.reassignTo")}>
        <option value="">{t("sup.agentPick")}</option>
        {agents.map((a) => (
          <option key={a.id} value={String(a.id)}>
            {isolate(a.name)} ({a.status}, {a.load}/{a.max_chats})
          </option>
        ))}
      </select>
      <button
        disabled={!to}
        onClick={() =>
          store.reassign(convId, Number(to)).then(
            () => store.flash(t("sup.reassigned", { id: convId })),
            (e) => store.flash(errorText(e)),
          )
        }
      >
        {t("sup.reassign")}
      </button>
    </span>
  );
}

// Sven moves an agent between email and chat: "chat only" sends their untouched email back.
function EmailToggle(props: { store: Store; agent: Overview["agents"][number]; onChanged: () => void }) {
  const { store, agent, onChanged } = props;
  const [saving, setSaving] = useState(false);
  async function change(takes: boolean) {
    setSaving(true);
    try {
      await api("PATCH", `/api/agents/${agent.id}`, { takes_email: takes });
      store.flash(`${agent.name}: ${takes ? "chat + email" : "chat only"}.`);
    } catch (e: any) {
      store.flash(errorText(e));
    } finally {
      setSaving(false);
      onChanged();
    }
  }
  return (
    <select
      name="takes-email"
      aria-label={t("sup.workFor", { name: agent.name })}
      disabled={saving}
      value={agent.takes_email ? "email" : "chat"}
      onChange={(e) => void change(e.currentTarget.value === "email")}
    >
      <option value="chat">{t("sup.chatOnly")}</option>
      <option value="email">{t("sup.chatEmail")}</option>
    </select>
  );
}

export function Supervisor({ store }: { store: Store }) {
  const [data, setData] = useState<Overview | null>(null);
  const [fetchedAt, setFetchedAt] = useState(Date.now() / 1000);
  const [error, setError] = useState("");
  const now = useNow();
  const busy = useRef(false);

  async function refresh() {
    if (busy.current) return;
    busy.current = true;
    try {
      setData(await api<Overview>("GET", "/api/routing/overview"));
      setFetchedAt(Date.now() / 1000);
      setError("");
    } catch (e: any) {
      setError(errorText(e));
    } finally {
      busy.current = false;
    }
  }

  useEffect(() => {
    void refresh();
    const t = window.setInterval(() => void refresh(), REFRESH_MS);
    return () => window.clearInterval(t);
  }, []);
  useEffect(() => {
    const t = window.setTimeout(() => void refresh(), 150); // a conversation changed: soon, once
    return () => window.clearTimeout(t);
  }, [store.convEvents]);

  async function take(convId: number) {
    try {
      await store.assignToMe(convId);
      await refresh();
      void store.open(convId);
    } catch (e: any) {
      store.flash(errorText(e));
    }
  }

  if (!data) return <section class="admin">{error ? <p class="error">{error}</p> : t("loading")}</section>;
  const since = now - fetchedAt; // waits tick between refreshes
  return (
    <section class="admin supervisor" aria-label={t("sup.label")}>
      <h2>{t("sup.label")}</h2>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="cards">
        <div class="card">
          <h3>{t("sup.queues")}</h3>
          {data.queues.length === 0 ? (
            <p class="empty">{t("sup.nobodyWaiting")}</p>
          ) : (
            <table class="queues">
              <thead><tr><th>{t("sup.skill")}</th><th>{t("sup.waiting")}</th><th>{t("sup.longest")}</th></tr></thead>
              <tbody>
                {data.queues.map((q) => (
                  <tr key={q.skill ?? ""} data-queue={q.skill ?? ""}>
                    <td>{q.skill || t("sup.any")}</td>
                    <td data-field="waiting">{q.waiting}</td>
                    <td>{clock(q.longest_wait_seconds + since)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div class="card">
          <h3>{t("sup.agents")}</h3>
          <table class="agent-load">
            <thead><tr><th>{t("sup.agent")}</th><th>{t("sup.status")}</th><th>{t("sup.load")}</th><th>{t("sup.email")}</th><th>{t("sup.works")}</th><th>{t("sup.skills")}</th></tr></thead>
            <tbody>
              {data.agents.map((a) => (
                <tr key={a.id} data-agent-id={a.id}>
                  <td dir="auto">{a.name}</td>
                  <td><span class={`presence presence-${a.status}`}>{a.status}</span></td>
                  <td data-field="load">
                    <span class={a.load >= a.max_chats ? "full" : ""}>{a.load}/{a.max_chats}</span>
                    <meter min={0} max={Math.max(1, a.max_chats)} value={a.load} />
                  </td>
                  <td data-field="email-load">{a.email_load}</td>
                  <td data-field="takes-email">
                    <EmailToggle store={store} agent={a} onChanged={() => void refresh()} />
                  </td>
                  <td>{a.skills.join(", ") || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div class="card">
          <h3>{t("sup.emailBacklog")}</h3>
          {data.email_backlog.length === 0 ? (
            <p class="empty">{t("sup.noEmail")}</p>
          ) : (
            <table class="email-backlog">
              <thead><tr><th>{t("sup.skill")}</th><th>{t("sup.backlog")}</th><th>{t("sup.oldest")}</th><th>{t("sup.beingAnswered")}</th></tr></thead>
              <tbody>
                {data.email_backlog.map((b) => (
                  <tr key={b.skill ?? ""} data-email-skill={b.skill ?? ""}>
                    <td>{b.skill || t("sup.any")}</td>
                    <td data-field="backlog">{b.backlog}</td>
                    <td>{b.backlog ? clock(b.oldest_seconds + since) : "—"}</td>
                    <td data-field="assigned">{b.assigned}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
      <div class="card">
        <h3>{t("sup.attention")}</h3>
        {(data.highlighted || []).length === 0 ? (
          <p class="empty">{t("sup.noAttention")}</p>
        ) : (
          <ul class="highlighted">
            {(data.highlighted || []).map((h) => (
              <li key={`${h.conversation_id}-${h.flag}`} data-highlighted={h.conversation_id} data-flag={h.flag}>
                #{h.conversation_id} · {data.agents.find((a) => a.id === h.agent_id)?.name || t("sup.nobody")} ·{" "}
                {h.flag === "waiting" ? <strong>{t("sup.waitingReply")}</strong> : t("sup.silent")}
                {h.since ? t("sup.since", { time: new Date(h.since).toLocaleTimeString() }) : ""}
              </li>
            ))}
          </ul>
        )}
      </div>
      <div class="card">
        <h3>{t("sup.waitingChats")}</h3>
        {data.waiting.length === 0 ? (
          <p class="empty">{t("sup.noChat")}</p>
        ) : (
          <table class="waiting">
            <thead><tr><th>{t("sup.chat")}</th><th>{t("sup.skill")}</th><th>{t("sup.priority")}</th><th>{t("sup.position")}</th><th>{t("sup.waiting")}</th><th /></tr></thead>
            <tbody>
              {data.waiting.map((w) => (
                <tr key={w.conversation_id} data-waiting={w.conversation_id}>
                  <td>{t("sup.chatOf", { id: w.conversation_id, visitor: w.visitor_id })}</td>
                  <td>{w.skill || t("sup.any")}{w.department ? ` · ${w.department}` : ""}</td>
                  <td>{w.priority ? t("sup.high") : t("sup.normal")}</td>
                  <td data-field="position">{w.position}</td>
                  <td data-field="waiting-time">{clock(w.waiting_seconds + since)}</td>
                  <td>
                    <button onClick={() => void take(w.conversation_id)}>{t("sup.take")}</button>{" "}
                    <Reassign store={store} convId={w.conversation_id} agents={data.agents} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
