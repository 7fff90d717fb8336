import { isolate } from "../shared/bidi";
// Reports (supervisors and admins): a range and filters, the key figures, charts per hour or
// day, agents and the invitation funnel; every number drills down to its conversations and every
// table exports as CSV. Formulas: docs/reports.md.
import { useEffect, useState } from "preact/hooks";
import { api } from "./api";
import { Chart } from "./reports/Chart";
import { TeamFilter } from "./reports/TeamFilter";
import { ascsv, fmtPct, fmtSecs, presetRange, type Query, query } from "./reports/query";
import type { Store } from "./store";

type Summary = any;
type Row = Record<string, any>;

const DRILLS: Record<string, string> = {
  all: "All conversations",
  abandoned: "Abandoned",
  sl_missed: "Not answered in time",
  handed_over: "Handed over by the bot",
  from_invitation: "From an invitation",
  unanswered: "Never answered",
};

function Figure(props: { label: string; value: string; drill?: string; onDrill?: (w: string) => void }) {
  const { label, value, drill, onDrill } = props;
  return (
    <div class="figure" data-testid={`figure-${label}`}>
      <span class="figure-label">{label}</span>
      {drill && onDrill ? (
        <button class="figure-value link" onClick={() => onDrill(drill)} title={`Show: ${DRILLS[drill]}`}>
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
        {name} <a class="csv" href={csv} download>CSV</a>
      </h3>
      {rows.length === 0 ? (
        <p class="hint">Nothing in this range.</p>
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
      (e) => setError(e.message),
    );
  }, [query(q)]);

  async function showDrill(which: string) {
    try {
      const rows = await api<Row[]>("GET", `/api/reports/conversations?${query(q)}&which=${which}`);
      setDrill({ which, rows });
    } catch (e: any) {
      store.flash(e.message);
    }
  }

  const set = (patch: Partial<Query>) => setQ({ ...q, ...patch });
  const s = summary;
  return (
    <section class="admin reports" aria-label="Reports">
      <h2>Reports</h2>
      <form class="report-range" onSubmit={(e) => e.preventDefault()}>
        {(["today", "7d", "30d"] as const).map((p) => (
          <button type="button" key={p} class={q.preset === p ? "on" : ""} onClick={() => setQ({ ...q, ...presetRange(p), channel: q.channel, skill: q.skill })}>
            {p === "today" ? "Today" : p === "7d" ? "7 days" : "30 days"}
          </button>
        ))}
        <label>
          From <input type="date" name="report-from" value={q.from} onChange={(e) => set({ from: e.currentTarget.value, preset: "" })} />
        </label>
        <label>
          To <input type="date" name="report-to" value={q.to} onChange={(e) => set({ to: e.currentTarget.value, preset: "" })} />
        </label>
        <select name="report-channel" aria-label="Channel" value={q.channel} onChange={(e) => set({ channel: e.currentTarget.value })}>
          <option value="">All channels</option>
          <option value="web">Web chat</option>
          <option value="email">Email</option>
        </select>
        <input name="report-skill" placeholder="Skill" aria-label="Skill" value={q.skill} onChange={(e) => set({ skill: e.currentTarget.value.trim() })} />
        <select name="report-agent" aria-label="Agent" value={q.agent ?? ""} onChange={(e) => set({ agent: e.currentTarget.value })}>
          <option value="">All agents</option>
          {people.map((a) => (
            <option key={a.id} value={String(a.id)}>{isolate(a.display_name)}</option>
          ))}
        </select>
        <TeamFilter value={q.team ?? ""} onChange={(team) => set({ team })} />
        {sites.length > 1 && (
          <select name="report-site" aria-label="Site" value={q.site ?? ""} onChange={(e) => set({ site: e.currentTarget.value })}>
            <option value="">All sites</option>
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
            <Figure label="Conversations" value={String(s.volume.total)} drill="all" onDrill={showDrill} />
            <Figure label="Service level" value={`${fmtPct(s.service.service_level)} within ${s.service.sl_seconds} s`} drill="sl_missed" onDrill={showDrill} />
            <Figure label="First response" value={fmtSecs(s.times.first_response_avg)} drill="unanswered" onDrill={showDrill} />
            <Figure label="Queue wait p90" value={fmtSecs(s.times.queue_wait_p90)} />
            <Figure label="Handle time" value={fmtSecs(s.times.handle_avg)} />
            <Figure label="Abandoned" value={`${s.service.abandoned} (${fmtPct(s.service.abandonment_rate)})`} drill="abandoned" onDrill={showDrill} />
            <Figure label="Occupancy" value={fmtPct(s.occupancy.total)} />
            <Figure label="Bot handover" value={fmtPct(s.bot.handover_rate)} drill="handed_over" onDrill={showDrill} />
            <Figure
              label="CSAT"
              value={s.csat && s.csat.count ? `${s.csat.average.toFixed(1)} / 5 (${s.csat.count} rated, ${fmtPct(s.csat.satisfied_ratio)} satisfied)` : "no ratings"}
            />
            <Figure label="Email backlog" value={`${s.email_backlog.pending}${s.email_backlog.oldest_age_seconds !== null ? `, oldest ${fmtSecs(s.email_backlog.oldest_age_seconds)}` : ""}`} />
          </div>
          {series && <Chart series={series} />}
          {drill && (
            <section class="report-table drill" aria-label="Drill-down">
              <h3>
                {DRILLS[drill.which]} ({drill.rows.length}){" "}
                <a class="csv" href={`/api/reports/conversations?${query(q)}&which=${drill.which}&format=csv`} download>CSV</a>{" "}
                <button onClick={() => setDrill(null)}>Close</button>
              </h3>
              <table>
                <thead>
                  <tr><th>#</th><th>Created</th><th>Channel</th><th>Status</th><th>Wait</th><th>First response</th></tr>
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
                      <td>{r.channel}</td>
                      <td>{r.status}</td>
                      <td>{fmtSecs(r.wait_seconds)}</td>
                      <td>{fmtSecs(r.first_response_seconds)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
          <Table
            name="Agents"
            rows={agents}
            csv={ascsv("/api/reports/agents", q)}
            columns={[
              ["agent", "Agent", plain],
              ["conversations", "Conversations", plain],
              ["resolved", "Resolved", plain],
              ["first_response_avg", "First response", fmtSecs],
              ["response_avg", "Response", fmtSecs],
              ["handle_avg", "Handle time", fmtSecs],
              ["occupancy", "Occupancy", fmtPct],
              ["csat_average", "CSAT", (v: any) => (v === null || v === undefined ? "–" : Number(v).toFixed(1))],
              ["csat_count", "Ratings", plain],
            ]}
          />
          {teams.length > 0 && (
            <Table
              name="Teams"
              rows={teams}
              csv={ascsv("/api/reports/teams", q)}
              columns={[
                ["team", "Team", (v: any) => isolate(String(v))],
                ["conversations", "Conversations", plain],
                ["first_response_avg", "First response", fmtSecs],
                ["response_avg", "Response", fmtSecs],
                ["handle_avg", "Handle time", fmtSecs],
                ["queue_wait_avg", "Queue wait", fmtSecs],
                ["service_level", "Service level", fmtPct],
              ]}
            />
          )}
          <Table
            name="Invitations"
            rows={funnel.map((f) => ({ ...f, rule: f.rule ?? (f.rule_id === null ? "manual" : `#${f.rule_id}`) }))}
            csv={ascsv("/api/reports/funnel", q)}
            columns={[
              ["rule", "Rule", (v: any) => isolate(String(v))],
              ["matched", "Matched", plain],
              ["held_out", "Held out", plain],
              ["shown", "Shown", plain],
              ["accepted", "Accepted", plain],
              ["dismissed", "Dismissed", plain],
              ["chats", "Chats", plain],
              ["goals", "Goals", plain],
              ["acceptance_rate", "Acceptance", fmtPct],
              ["goal_rate", "Goal rate", fmtPct],
              ["held_out_goal_rate", "Held out goal rate", fmtPct],
              ["lift", "Lift", (v: any) => (v === null || v === undefined ? "—" : `${v >= 0 ? "+" : ""}${Math.round(v * 1000) / 10} pts`)],
            ]}
          />
        </>
      )}
    </section>
  );
}
