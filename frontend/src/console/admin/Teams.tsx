import { useState } from "preact/hooks";
import { api } from "../api";
import type { Agent, Team } from "../types";

/** Teams: named groups of agents (who belongs is also set per agent above). */
export function Teams({ agents, teams, onChange }: { agents: Agent[]; teams: Team[]; onChange: (t: Team[]) => void }) {
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  const names = (ids: number[]) =>
    ids
      .map((id) => agents.find((a) => a.id === id)?.display_name ?? `#${id}`)
      .join(", ") || "nobody yet";

  async function create(e: Event) {
    e.preventDefault();
    setError("");
    try {
      const t = await api<Team>("POST", "/api/teams", { name, member_ids: [] });
      onChange([...teams, t]);
      setName("");
    } catch (err: any) {
      setError(err.message);
    }
  }

  async function remove(team: Team) {
    if (!confirm(`Delete the team ${team.name}?`)) return;
    try {
      await api("DELETE", `/api/teams/${team.id}`);
      onChange(teams.filter((t) => t.id !== team.id));
    } catch (err: any) {
      setError(err.message);
    }
  }

  return (
    <div class="card teams">
      <h3>Teams</h3>
      <ul>
        {teams.map((t) => (
          <li key={t.id} data-team={t.name}>
            <strong>{t.name}</strong>: {names(t.member_ids)} <button onClick={() => void remove(t)}>Delete</button>
          </li>
        ))}
      </ul>
      <form onSubmit={create} aria-label="Create team">
        <label>New team <input value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} /></label>
        <button type="submit">Create team</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
