import { useEffect, useState } from "preact/hooks";
import { api, upload } from "../api";
import type { Agent, SiteBrief, Team } from "../types";
import { Teams } from "./Teams";

const skillList = (t: string) =>
  t
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

function toggle(ids: number[], id: number, on: boolean): number[] {
  return on ? [...new Set([...ids, id])].sort((a, b) => a - b) : ids.filter((x) => x !== id);
}

/** Checkboxes for a set of ids (the sites an agent serves, the teams they belong to). */
function Picks({ label, items, chosen, onChange }: { label: string; items: { id: number; name: string }[]; chosen: number[]; onChange: (ids: number[]) => void }) {
  return (
    <fieldset class="picks" aria-label={label}>
      {items.map((it) => (
        <label key={it.id}>
          <input type="checkbox" checked={chosen.includes(it.id)} onChange={(e) => onChange(toggle(chosen, it.id, e.currentTarget.checked))} /> {it.name}
        </label>
      ))}
      {items.length === 0 && <span class="info">none yet</span>}
    </fieldset>
  );
}

function AgentRow({ agent, sites, teams, onSaved }: { agent: Agent; sites: SiteBrief[]; teams: Team[]; onSaved: (a: Agent) => void }) {
  const [name, setName] = useState(agent.display_name);
  const [role, setRole] = useState(agent.role);
  const [skills, setSkills] = useState(agent.skills.join(", "));
  const [maxChats, setMaxChats] = useState(agent.max_chats);
  const [active, setActive] = useState(agent.is_active);
  const [siteIds, setSiteIds] = useState<number[]>(agent.site_ids ?? []);
  const [teamIds, setTeamIds] = useState<number[]>(agent.team_ids ?? []);
  const [msg, setMsg] = useState("");

  async function save() {
    try {
      const a = await api<Agent>("PATCH", `/api/agents/${agent.id}`, {
        display_name: name,
        role,
        skills: skillList(skills),
        max_chats: maxChats,
        is_active: active,
        site_ids: siteIds,
        team_ids: teamIds,
      });
      onSaved(a);
      setMsg("Saved.");
    } catch (e: any) {
      setMsg(e.message);
    }
  }

  async function picture(file: File | undefined) {
    if (!file) return;
    try {
      onSaved(await upload<Agent>(`/api/agents/${agent.id}/avatar`, file));
      setMsg("Picture saved.");
    } catch (e: any) {
      setMsg(e.message);
    }
  }

  return (
    <tr data-agent={agent.username}>
      <td>
        {agent.avatar_url ? (
          <img class="agent-avatar" src={agent.avatar_url} alt="" width={32} height={32} />
        ) : (
          <span class="agent-avatar initials" aria-hidden="true">
            {(agent.display_name || agent.username).trim().charAt(0).toUpperCase()}
          </span>
        )}{" "}
        <input
          type="file"
          accept="image/png,image/jpeg,image/gif,image/webp"
          aria-label={`Picture of ${agent.display_name}`}
          onChange={(e) => void picture(e.currentTarget.files?.[0])}
        />
      </td>
      <td>{agent.username}</td>
      <td>
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} aria-label="Display name" />
      </td>
      <td>
        <select value={role} onChange={(e) => setRole(e.currentTarget.value)} aria-label="Role">
          <option value="agent">agent</option>
          <option value="supervisor">supervisor</option>
          <option value="admin">admin</option>
        </select>
      </td>
      <td>
        <input value={skills} onInput={(e) => setSkills(e.currentTarget.value)} aria-label="Skills" />
      </td>
      <td>
        <input
          type="number"
          min={0}
          max={50}
          value={maxChats}
          onInput={(e) => setMaxChats(Number(e.currentTarget.value))}
          aria-label="Max concurrent chats"
        />
      </td>
      <td>{role === "admin" ? <span class="info">all sites</span> : <Picks label="Sites" items={sites} chosen={siteIds} onChange={setSiteIds} />}</td>
      <td>
        <Picks label="Teams" items={teams} chosen={teamIds} onChange={setTeamIds} />
      </td>
      <td>{agent.status}</td>
      <td>
        <input type="checkbox" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} aria-label="Active" />
      </td>
      <td>
        <button onClick={() => void save()}>Save</button> <span class="info">{msg}</span>
      </td>
    </tr>
  );
}

export function Agents() {
  const [agents, setAgents] = useState<Agent[]>([]);
  const [sites, setSites] = useState<SiteBrief[]>([]);
  const [teams, setTeams] = useState<Team[]>([]);
  const [form, setForm] = useState({ username: "", display_name: "", password: "", role: "agent", skills: "", max_chats: 4 });
  const [formSites, setFormSites] = useState<number[]>([]);
  const [error, setError] = useState("");

  useEffect(() => {
    api<Agent[]>("GET", "/api/agents").then(setAgents, (e) => setError(e.message));
    api<SiteBrief[]>("GET", "/api/sites").then(
      (s) => {
        setSites(s.map(({ id, name }) => ({ id, name })));
        if (s.length === 1) setFormSites([s[0].id]);
      },
      (e) => setError(e.message),
    );
    api<{ items: Team[] }>("GET", "/api/teams").then((r) => setTeams(r.items), (e) => setError(e.message));
  }, []);

  async function create(e: Event) {
    e.preventDefault();
    setError("");
    try {
      const a = await api<Agent>("POST", "/api/agents", { ...form, skills: skillList(form.skills), site_ids: formSites });
      setAgents([...agents, a]);
      setForm({ ...form, username: "", display_name: "", password: "" });
    } catch (err: any) {
      setError(err.message);
    }
  }

  const field = (k: keyof typeof form) => (e: any) => setForm({ ...form, [k]: k === "max_chats" ? Number(e.currentTarget.value) : e.currentTarget.value });
  return (
    <section class="admin">
      <h2>Agents</h2>
      <p class="hint">An agent sees and is offered only the conversations, visitors and reports of the sites ticked for them; admins see every site.</p>
      <form class="card create" onSubmit={create} aria-label="Create agent">
        <h3>New agent</h3>
        <label>Username <input name="username" value={form.username} onInput={field("username")} required /></label>
        <label>Display name <input name="display_name" value={form.display_name} onInput={field("display_name")} /></label>
        <label>Password <input name="password" type="password" autocomplete="new-password" value={form.password} onInput={field("password")} required /></label>
        <label>Role
          <select name="role" value={form.role} onChange={field("role")}>
            <option value="agent">agent</option>
            <option value="supervisor">supervisor</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <label>Skills (comma separated) <input name="skills" value={form.skills} onInput={field("skills")} /></label>
        <label>Max concurrent chats <input name="max_chats" type="number" min={0} max={50} value={form.max_chats} onInput={field("max_chats")} /></label>
        <div>Sites served <Picks label="Sites of the new agent" items={sites} chosen={formSites} onChange={setFormSites} /></div>
        <button type="submit">Create agent</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
      <table class="agents">
        <thead>
          <tr><th>Picture</th><th>Username</th><th>Name</th><th>Role</th><th>Skills</th><th>Max chats</th><th>Sites</th><th>Teams</th><th>Status</th><th>Active</th><th /></tr>
        </thead>
        <tbody>
          {agents.map((a) => (
            <AgentRow key={`${a.id}-${teams.length}`} agent={a} sites={sites} teams={teams} onSaved={(x) => setAgents(agents.map((y) => (y.id === x.id ? x : y)))} />
          ))}
        </tbody>
      </table>
      <Teams agents={agents} teams={teams} onChange={setTeams} />
    </section>
  );
}
