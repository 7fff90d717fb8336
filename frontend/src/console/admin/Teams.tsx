import { useState } from "preact/hooks";
import { api } from "../api";
import { errorText } from "../errors";
import { t } from "../i18n";
import type { Agent, Team } from "../types";

/** Teams: named groups of agents (who belongs is also set per agent above). */
export function Teams({ agents, teams, onChange }: { agents: Agent[]; teams: Team[]; onChange: (t: Team[]) => void }) {
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  const names = (ids: number[]) =>
    ids
      .map((id) => agents.find((a) => a.id === id)?.display_name ?? `#${id}`)
      .join(", ") || t("teams.nobody");

  async function create(e: Event) {
    e.preventDefault();
    setError("");
    try {
      const made = await api<Team>("POST", "/api/teams", { name, member_ids: [] });
      onChange([...teams, made]);
      setName("");
    } catch (err: any) {
      setError(errorText(err));
    }
  }

  async function remove(team: Team) {
    if (!confirm(t("teams.confirmDelete", { name: team.name }))) return;
    try {
      await api("DELETE", `/api/teams/${team.id}`);
      onChange(teams.filter((x) => x.id !== team.id));
    } catch (err: any) {
      setError(errorText(err));
    }
  }

  return (
    <div class="card teams">
      <h3>{t("teams.title")}</h3>
      <ul>
        {teams.map((team) => (
          <li key={team.id} data-team={team.name}>
            <strong>{team.name}</strong>: {names(team.member_ids)} <button onClick={() => void remove(team)}>{t("canned.delete")}</button>
          </li>
        ))}
      </ul>
      <form onSubmit={create} aria-label={t("teams.create")}>
        <label>{t("teams.new")} <input value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} /></label>
        <button type="submit">{t("teams.create")}</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
