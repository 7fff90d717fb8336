// The report range and filters, as the console keeps them and as the API wants them.

export interface Query {
  preset: "today" | "7d" | "30d" | "";
  from: string; // yyyy-mm-dd, local day, inclusive
  to: string; // yyyy-mm-dd, local day, inclusive
  channel: string;
  skill: string;
  agent?: string; // agent id
  site?: string; // site id
  team?: string; // team id
}

function day(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function presetRange(preset: "today" | "7d" | "30d"): Query {
  const to = new Date();
  const from = new Date(to);
  from.setDate(to.getDate() - (preset === "today" ? 0 : preset === "7d" ? 6 : 29));
  return { preset, from: day(from), to: day(to), channel: "", skill: "" };
}

/** Local days to an ISO range: from the start of ``from`` to the start of the day after ``to``. */
export function query(q: Query): string {
  const start = new Date(`${q.from}T00:00:00`);
  const end = new Date(`${q.to}T00:00:00`);
  end.setDate(end.getDate() + 1);
  const params = new URLSearchParams({ start: start.toISOString(), end: end.toISOString() });
  if (q.channel) params.set("channel", q.channel);
  if (q.skill) params.set("skill", q.skill);
  if (q.agent) params.set("agent_id", q.agent);
  if (q.site) params.set("site_id", q.site);
  if (q.team) params.set("team_id", q.team);
  return params.toString();
}

export function ascsv(path: string, q: Query): string {
  return `${path}?${query(q)}&format=csv`;
}

export function fmtSecs(v: number | null | undefined): string {
  if (v === null || v === undefined) return "—";
  if (v < 90) return `${Math.round(v)} s`;
  if (v < 5400) return `${Math.round(v / 60)} min`;
  return `${(v / 3600).toFixed(1)} h`;
}

export function fmtPct(v: number | null | undefined): string {
  return v === null || v === undefined ? "—" : `${Math.round(v * 100)} %`;
}
