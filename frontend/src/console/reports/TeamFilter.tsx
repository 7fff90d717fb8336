// The reports' team filter: conversations of the team's agents (docs/reports.md, "Teams").
import { useEffect, useState } from "preact/hooks";
import { isolate } from "../../shared/bidi";
import { api } from "../api";
import { t } from "../i18n";

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
    <select name="report-team" aria-label={t("rep.team")} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
      <option value="">{t("rep.allTeams")}</option>
      {teams.map((team) => (
        <option key={team.id} value={String(team.id)}>{isolate(team.name)}</option>
      ))}
    </select>
  );
}
