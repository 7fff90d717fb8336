import { useEffect, useState } from "preact/hooks";
import { api, upload } from "../api";
import { errorText } from "../errors";
import { t, tValue } from "../i18n";
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
      {items.length === 0 && <span class="info">{t("agents.noneYet")}</span>}
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
      setMsg(t("agents.saved"));
    } catch (e: any) {
      setMsg(errorText(e));
    }
  }

  async function picture(file: File | undefined) {
    if (!file) return;
    try {
      onSaved(await upload<Agent>(`/api/agents/${agent.id}/avatar`, file));
      setMsg(t("agents.pictureSaved"));
    } catch (e: any) {
      setMsg(errorText(e));
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
          aria-label={t("agents.pictureOf", { name: agent.display_name })}
          onChange={(e) => void picture(e.currentTarget.files?.[0])}
        />
      </td>
      <td>{agent.username}</td>
      <td>
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} aria-label={t("agents.displayName")} />
      </td>
      <td>
        <select value={role} onChange={(e) => setRole(e.currentTarget.value)} aria-label={t("agents.role")}>
          <option value="agent">{t("role.agent")}</option>
          <option value="supervisor">{t("role.supervisor")}</option>
          <option value="admin">{t("role.admin")}</option>
        </select>
      </td>
      <td>
        <input value={skills} onInput={(e) => setSkills(e.currentTarget.value)} aria-label={t("sup.skills")} />
      </td>
      <td>
        <input
          type="number"
          min={0}
          max={50}
          value={maxChats}
          onInput={(e) => setMaxChats(Number(e.currentTarget.value))}
          aria-label={t("agents.maxChats")}
        />
      </td>
      <td>{role === "admin" ? <span class="info">{t("agents.allSites")}</span> : <Picks label={t("nav.sites")} items={sites} chosen={siteIds} onChange={setSiteIds} />}</td>
      <td>
        <Picks label={t("teams.title")} items={teams} chosen={teamIds} onChange={setTeamIds} />
      </td>
      <td>{tValue("status", agent.status)}</td>
      <td>
        <input type="checkbox" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} aria-label={t("agents.active")} />
      </td>
      <td>
        <button onClick={() => void save()}>{t("canned.save")}</button> <span class="info">{msg}</span>
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
    api<Agent[]>("GET", "/api/agents").then(setAgents, (e) => setError(errorText(e)));
    api<SiteBrief[]>("GET", "/api/sites").then(
      (s) => {
        setSites(s.map(({ id, name }) => ({ id, name })));
        if (s.length === 1) setFormSites([s[0].id]);
      },
      (e) => setError(errorText(e)),
    );
    api<{ items: Team[] }>("GET", "/api/teams").then((r) => setTeams(r.items), (e) => setError(errorText(e)));
  }, []);

  async function create(e: Event) {
    e.preventDefault();
    setError("");
    try {
      const a = await api<Agent>("POST", "/api/agents", { ...form, skills: skillList(form.skills), site_ids: formSites });
      setAgents([...agents, a]);
      setForm({ ...form, username: "", display_name: "", password: "" });
    } catch (err: any) {
      setError(errorText(err));
    }
  }

  const field = (k: keyof typeof form) => (e: any) => setForm({ ...form, [k]: k === "max_chats" ? Number(e.currentTarget.value) : e.currentTarget.value });
  return (
    <section class="admin">
      <h2>{t("nav.agents")}</h2>
      <p class="hint">{t("agents.hint")}</p>
      <form class="card create" onSubmit={create} aria-label={t("agents.create")}>
        <h3>{t("agents.new")}</h3>
        <label>{t("login.username")} <input name="username" value={form.username} onInput={field("username")} required /></label>
        <label>{t("agents.displayName")} <input name="display_name" value={form.display_name} onInput={field("display_name")} /></label>
        <label>{t("login.password")} <input name="password" type="password" autocomplete="new-password" value={form.password} onInput={field("password")} required /></label>
        <label>{t("agents.role")}
          <select name="role" value={form.role} onChange={field("role")}>
            <option value="agent">{t("role.agent")}</option>
            <option value="supervisor">{t("role.supervisor")}</option>
            <option value="admin">{t("role.admin")}</option>
          </select>
        </label>
        <label>{t("agents.skillsList")} <input name="skills" value={form.skills} onInput={field("skills")} /></label>
        <label>{t("agents.maxChats")} <input name="max_chats" type="number" min={0} max={50} value={form.max_chats} onInput={field("max_chats")} /></label>
        <div>{t("agents.sitesServed")} <Picks label={t("agents.newSites")} items={sites} chosen={formSites} onChange={setFormSites} /></div>
        <button type="submit">{t("agents.create")}</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
      <table class="agents">
        <thead>
          <tr>
            <th>{t("agents.picture")}</th>
            <th>{t("login.username")}</th>
            <th>{t("contacts.name")}</th>
            <th>{t("agents.role")}</th>
            <th>{t("sup.skills")}</th>
            <th>{t("agents.maxChatsShort")}</th>
            <th>{t("nav.sites")}</th>
            <th>{t("teams.title")}</th>
            <th>{t("sup.status")}</th>
            <th>{t("agents.active")}</th>
            <th />
          </tr>
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
