// The reports' team filter: conversations of the team's agents (docs/reports.md, "Teams").
import { useEffect, useState } from "preact/hooks";
import { isolate } from "../../shared/bidi";
import { api } from "../api";

interface Team {
  id: number;
  name: string;
}

export function TeamFilter(props: { value: string; onChange: (team: string) => void }) {
  const [teams, setTeams] = useState<Team[]>([]);
  useEffect(() => {
    api<{ items: Team[] }>("GET", "/api/teams").then((r) => setTeams(r.items), () => setTeams([]));
  }, []);
  if (teams.length === 0) return null;
  return (
    <select name="report-team" aria-label="Team" value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
      <option value="">All teams</option>
      {teams.map((t) => (
        <option key={t.id} value={String(t.id)}>{isolate(t.name)}</option>
      ))}
    </select>
  );
}
