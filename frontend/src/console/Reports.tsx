import { isolate } from "../shared/bidi";
// Reports (supervisors and admins): a range and filters, the key figures, charts per hour or
// day, agents and the invitation funnel; every number drills down to its conversations and every
// table exports as CSV. Formulas: docs/reports.md.
import { useEffect, useState } from "preact/hooks";
import { api } from "./api";
import { Chart } from "./reports/Chart";
import { DigestSettings } from "./reports/DigestSettings";
import { TeamFilter } from "./reports/TeamFilter";
import { ascsv, fmtPct, fmtSecs, presetRange, type Query, query } from "./reports/query";
import { errorText } from "./errors";
import { t, tValue, type Key } from "./i18n";
import type { Store } from "./store";

type Summary = any;
type Row = Record<string, any>;

const DRILLS: Record<string, Key> = {
  all: "rep.drill.all",
  abandoned: "rep.drill.abandoned",
  sl_missed: "rep.drill.sl_missed",
  handed_over: "rep.drill.handed_over",
  from_invitation: "rep.drill.from_invitation",
  unanswered: "rep.drill.unanswered",
};

// `id` names the figure for tests and styles whatever the language.
function Figure(props: { id: string; label: string; value: string; drill?: string; onDrill?: (w: string) => void }) {
  const { id, label, value, drill, onDrill } = props;
  return (
    <div class="figure" data-testid={`figure-${id}`}>
      <span class="figure-label">{label}</span>
      {drill && onDrill ? (
        <button class="figure-value link" onClick={() => onDrill(drill)} title={t("rep.show", { what: t(DRILLS[drill]) })}>
          {value}
        </button>
      ) : (
        <span class="figure-value">{value}</span>
      )}
    </div>
  );
}

function Table(props: { rows: Row[]; columns: [string, string, (v: any) => string][]; csv: string; name: string }) {
  const { rows, columns, csv, name } = props;
  return (
    <section class="report-table">
      <h3>
        {name} <a class="csv" href={csv} download>CSV</a> {/* i18n-ignore: a format */}
      </h3>
      {rows.length === 0 ? (
        <p class="hint">{t("rep.nothing")}</p>
      ) : (
        <table>
          <thead>
            <tr>{columns.map(([, title]) => <th key={title}>{title}</th>)}</tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>{columns.map(([key, title, fmt]) => <td key={title}>{fmt(r[key])}</td>)}</tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

const plain = (v: any) => (v === null || v === undefined ? "—" : String(v));

export function Reports({ store, openChat }: { store: Store; openChat: (id: number) => void }) {
  const [q, setQ] = useState<Query>(() => presetRange("7d"));
  const [summary, setSummary] = useState<Summary | null>(null);
  const [series, setSeries] = useState<{ bucket: string; points: Row[] } | null>(null);
  const [agents, setAgents] = useState<Row[]>([]);
  const [funnel, setFunnel] = useState<Row[]>([]);
  const [teams, setTeams] = useState<Row[]>([]);
  const [drill, setDrill] = useState<{ which: string; rows: Row[] } | null>(null);
  const [error, setError] = useState("");
  const [people, setPeople] = useState<Row[]>([]);
  const [sites, setSites] = useState<Row[]>([]);

  useEffect(() => {
    api<Row[]>("GET", "/api/agents").then(setPeople, () => setPeople([]));
    // sites are listed for admins only; supervisors report over all of them
    api<Row[]>("GET", "/api/sites").then(setSites, () => setSites([]));
  }, []);

  useEffect(() => {
    const qs = query(q);
    setError("");
    Promise.all([
      api<Summary>("GET", `/api/reports/summary?${qs}`),
      api<{ bucket: string; points: Row[] }>("GET", `/api/reports/series?${qs}`),
      api<Row[]>("GET", `/api/reports/agents?${qs}`),
      api<Row[]>("GET", `/api/reports/funnel?${qs}`),
      api<Row[]>("GET", `/api/reports/teams?${qs}`),
    ]).then(
      ([s, se, a, f, t]) => {
        setTeams(t);
        setSummary(s);
        setSeries(se);
        setAgents(a);
        setFunnel(f);
        setDrill(null);
      },
      (e) => setError(errorText(e)),
    );
  }, [query(q)]);

  async function showDrill(which: string) {
    try {
      const rows = await api<Row[]>("GET", `/api/reports/conversations?${query(q)}&which=${which}`);
      setDrill({ which, rows });
    } catch (e: any) {
      store.flash(errorText(e));
    }
  }

  const set = (patch: Partial<Query>) => setQ({ ...q, ...patch });
  const s = summary;
  return (
    <section class="admin reports" aria-label={t("nav.reports")}>
      <h2>{t("nav.reports")}</h2>
      <form class="report-range" onSubmit={(e) => e.preventDefault()}>
        {(["today", "7d", "30d"] as const).map((p) => (
          <button type="button" key={p} class={q.preset === p ? "on" : ""} onClick={() => setQ({ ...q, ...presetRange(p), channel: q.channel, skill: q.skill })}>
            {p === "today" ? t("rep.today") : p === "7d" ? t("rep.days", { n: 7 }) : t("rep.days", { n: 30 })}
          </button>
        ))}
        <label>
          {t("rep.from")} <input type="date" name="report-from" value={q.from} onChange={(e) => set({ from: e.currentTarget.value, preset: "" })} />
        </label>
        <label>
          {t("rep.to")} <input type="date" name="report-to" value={q.to} onChange={(e) => set({ to: e.currentTarget.value, preset: "" })} />
        </label>
        <select name="report-channel" aria-label={t("rep.channel")} value={q.channel} onChange={(e) => set({ channel: e.currentTarget.value })}>
          <option value="">{t("rep.allChannels")}</option>
          <option value="web">{t("rep.web")}</option>
          <option value="email">{t("contacts.email")}</option>
        </select>
        <input name="report-skill" placeholder={t("sup.skill")} aria-label={t("sup.skill")} value={q.skill} onChange={(e) => set({ skill: e.currentTarget.value.trim() })} />
        <select name="report-agent" aria-label={t("sup.agent")} value={q.agent ?? ""} onChange={(e) => set({ agent: e.currentTarget.value })}>
          <option value="">{t("rep.allAgents")}</option>
          {people.map((a) => (
            <option key={a.id} value={String(a.id)}>{isolate(a.display_name)}</option>
          ))}
        </select>
        <TeamFilter value={q.team ?? ""} onChange={(team) => set({ team })} />
        {sites.length > 1 && (
          <select name="report-site" aria-label={t("kb.site")} value={q.site ?? ""} onChange={(e) => set({ site: e.currentTarget.value })}>
            <option value="">{t("rep.allSites")}</option>
            {sites.map((x) => (
              <option key={x.id} value={String(x.id)}>{isolate(x.name)}</option>
            ))}
          </select>
        )}
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {s && (
        <>
          <div class="figures">
            <Figure id="Conversations" label={t("rep.conversations")} value={String(s.volume.total)} drill="all" onDrill={showDrill} />
            <Figure id="Service level" label={t("rep.serviceLevel")} value={t("rep.within", { pct: fmtPct(s.service.service_level), s: s.service.sl_seconds })} drill="sl_missed" onDrill={showDrill} />
            <Figure id="First response" label={t("rep.firstResponse")} value={fmtSecs(s.times.first_response_avg)} drill="unanswered" onDrill={showDrill} />
            <Figure id="Queue wait p90" label={t("rep.queueWait")} value={fmtSecs(s.times.queue_wait_p90)} />
            <Figure id="Handle time" label={t("rep.handleTime")} value={fmtSecs(s.times.handle_avg)} />
            <Figure id="Abandoned" label={t("rep.abandoned")} value={`${s.service.abandoned} (${fmtPct(s.service.abandonment_rate)})`} drill="abandoned" onDrill={showDrill} />
            <Figure id="Occupancy" label={t("rep.occupancy")} value={fmtPct(s.occupancy.total)} />
            <Figure id="Bot handover" label={t("rep.botHandover")} value={fmtPct(s.bot.handover_rate)} drill="handed_over" onDrill={showDrill} />
            <Figure
              id="CSAT"
              label={t("rep.csat")}
              value={s.csat && s.csat.count ? t("rep.csatValue", { avg: s.csat.average.toFixed(1), n: s.csat.count, pct: fmtPct(s.csat.satisfied_ratio) }) : t("rep.noRatings")}
            />
            <Figure
              id="Email backlog"
              label={t("sup.emailBacklog")}
              value={`${s.email_backlog.pending}${s.email_backlog.oldest_age_seconds !== null ? t("rep.oldest", { age: fmtSecs(s.email_backlog.oldest_age_seconds) }) : ""}`}
            />
          </div>
          {series && <Chart series={series} />}
          {drill && (
            <section class="report-table drill" aria-label={t("rep.drill")}>
              <h3>
                {t(DRILLS[drill.which])} ({drill.rows.length}){" "}
                <a class="csv" href={`/api/reports/conversations?${query(q)}&which=${drill.which}&format=csv`} download>
                  CSV {/* i18n-ignore */}
                </a>{" "}
                <button onClick={() => setDrill(null)}>{t("pane.close")}</button>
              </h3>
              <table>
                <thead>
                  <tr><th>#</th><th>{t("rep.created")}</th><th>{t("rep.channel")}</th><th>{t("sup.status")}</th><th>{t("rep.wait")}</th><th>{t("rep.firstResponse")}</th></tr>
                </thead>
                <tbody>
                  {drill.rows.map((r) => (
                    <tr key={r.conversation_id}>
                      <td>
                        <button class="link" data-testid="drill-conversation" onClick={() => openChat(r.conversation_id)}>
                          #{r.conversation_id}
                        </button>
                      </td>
                      <td>{new Date(r.created_at).toLocaleString()}</td>
                      <td>{tValue("channel", r.channel)}</td>
                      <td>{tValue("status", r.status)}</td>
                      <td>{fmtSecs(r.wait_seconds)}</td>
                      <td>{fmtSecs(r.first_response_seconds)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
          <Table
            name={t("sup.agents")}
            rows={agents}
            csv={ascsv("/api/reports/agents", q)}
            columns={[
              ["agent", t("sup.agent"), plain],
              ["conversations", t("rep.conversations"), plain],
              ["resolved", t("view.resolved"), plain],
              ["first_response_avg", t("rep.firstResponse"), fmtSecs],
              ["response_avg", t("rep.response"), fmtSecs],
              ["handle_avg", t("rep.handleTime"), fmtSecs],
              ["occupancy", t("rep.occupancy"), fmtPct],
              ["csat_average", t("rep.csat"), (v: any) => (v === null || v === undefined ? "–" : Number(v).toFixed(1))],
              ["csat_count", t("rep.ratings"), plain],
            ]}
          />
          {teams.length > 0 && (
            <Table
              name={t("rep.teams")}
              rows={teams}
              csv={ascsv("/api/reports/teams", q)}
              columns={[
                ["team", t("rep.team"), (v: any) => isolate(String(v))],
                ["conversations", t("rep.conversations"), plain],
                ["first_response_avg", t("rep.firstResponse"), fmtSecs],
                ["response_avg", t("rep.response"), fmtSecs],
                ["handle_avg", t("rep.handleTime"), fmtSecs],
                ["queue_wait_avg", t("rep.queueWaitAvg"), fmtSecs],
                ["service_level", t("rep.serviceLevel"), fmtPct],
              ]}
            />
          )}
          <Table
            name={t("rep.invitations")}
            rows={funnel.map((f) => ({ ...f, rule: f.rule ?? (f.rule_id === null ? t("rep.manual") : `#${f.rule_id}`) }))}
            csv={ascsv("/api/reports/funnel", q)}
            columns={[
              ["rule", t("rep.rule"), (v: any) => isolate(String(v))],
              ["matched", t("rep.matched"), plain],
              ["held_out", t("rep.heldOut"), plain],
              ["shown", t("rep.shown"), plain],
              ["accepted", t("rep.accepted"), plain],
              ["dismissed", t("rep.dismissed"), plain],
              ["chats", t("nav.chats"), plain],
              ["goals", t("rep.goals"), plain],
              ["acceptance_rate", t("rep.acceptance"), fmtPct],
              ["goal_rate", t("rep.goalRate"), fmtPct],
              ["held_out_goal_rate", t("rep.heldOutGoalRate"), fmtPct],
              ["lift", t("rep.lift"), (v: any) => (v === null || v === undefined ? "—" : t("rep.liftPts", { n: `${v >= 0 ? "+" : ""}${Math.round(v * 1000) / 10}` }))],
            ]}
          />
        </>
      )}
      <DigestSettings sites={sites as { id: number; name: string }[]} />
    </section>
  );
}
