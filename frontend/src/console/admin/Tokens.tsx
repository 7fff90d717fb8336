import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import type { Agent, SiteBrief } from "../types";

interface Token {
  id: number;
  name: string;
  agent_id: number;
  prefix: string;
  scopes: string[];
  site_ids: number[] | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "never");

/** API tokens: create (the token is shown once), list with last use, revoke. */
export function Tokens() {
  const [tokens, setTokens] = useState<Token[]>([]);
  const [resources, setResources] = useState<string[]>([]);
  const [agents, setAgents] = useState<Agent[]>([]);
  const [sites, setSites] = useState<SiteBrief[]>([]);
  const [name, setName] = useState("");
  const [owner, setOwner] = useState("");
  const [scopes, setScopes] = useState<Record<string, "" | "read" | "write">>({});
  const [siteIds, setSiteIds] = useState<number[] | null>(null);
  const [shown, setShown] = useState<{ name: string; token: string } | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    api<{ items: Token[] }>("GET", "/api/tokens?limit=200").then((r) => setTokens(r.items), (e) => setError(e.message));
    api<{ resources: string[] }>("GET", "/api/scopes").then((r) => setResources(r.resources), (e) => setError(e.message));
    api<Agent[]>("GET", "/api/agents").then(setAgents, () => undefined);
    api<SiteBrief[]>("GET", "/api/sites").then((s) => setSites(s.map(({ id, name }) => ({ id, name }))), () => undefined);
  }, []);

  async function create(e: Event) {
    e.preventDefault();
    setError("");
    const chosen = Object.entries(scopes)
      .filter(([, level]) => level)
      .map(([r, level]) => `${r}:${level}`);
    try {
      const made = await api<Token & { token: string }>("POST", "/api/tokens", {
        name,
        scopes: chosen,
        agent_id: owner ? Number(owner) : null,
        site_ids: siteIds,
      });
      const { token, ...view } = made;
      setTokens([...tokens, view]);
      setShown({ name: made.name, token });
      setName("");
    } catch (err: any) {
      setError(err.message);
    }
  }

  async function revoke(t: Token) {
    if (!confirm(`Revoke the token ${t.name}? Integrations using it stop working.`)) return;
    try {
      const r = await api<Token>("DELETE", `/api/tokens/${t.id}`);
      setTokens(tokens.map((x) => (x.id === r.id ? r : x)));
    } catch (err: any) {
      setError(err.message);
    }
  }

  const agentName = (id: number) => agents.find((a) => a.id === id)?.username ?? `#${id}`;
  return (
    <section class="admin tokens">
      <h2>API tokens</h2>
      <p class="hint">
        A token acts for its owner (you, or a service account) with that agent's sites, and only on the resources it is given. Send it as <code>Authorization: Bearer …</code>; see docs/api.md.
      </p>
      {shown && (
        <div class="card token-shown" role="status">
          <p>
            The token <strong>{shown.name}</strong>. Copy it now: it is shown only this once.
          </p>
          <input class="token-value" readOnly value={shown.token} aria-label="New token" onFocus={(e) => e.currentTarget.select()} />
          <button onClick={() => setShown(null)}>Done</button>
        </div>
      )}
      <form class="card create" onSubmit={create} aria-label="Create token">
        <h3>New token</h3>
        <label>Name <input name="token_name" value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} /></label>
        <label>Owner
          <select value={owner} onChange={(e) => setOwner(e.currentTarget.value)} aria-label="Owner">
            <option value="">me</option>
            {agents.map((a) => (
              <option key={a.id} value={String(a.id)}>{a.username}</option>
            ))}
          </select>
        </label>
        <table class="scopes">
          <thead><tr><th>Resource</th><th>None</th><th>Read</th><th>Read and write</th></tr></thead>
          <tbody>
            {resources.map((r) => (
              <tr key={r} data-resource={r}>
                <td>{r}</td>
                {(["", "read", "write"] as const).map((level) => (
                  <td key={level}>
                    <input type="radio" name={`scope-${r}`} aria-label={`${r} ${level || "none"}`} checked={(scopes[r] ?? "") === level} onChange={() => setScopes({ ...scopes, [r]: level })} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        <fieldset aria-label="Token sites">
          <label><input type="checkbox" checked={siteIds === null} onChange={(e) => setSiteIds(e.currentTarget.checked ? null : [])} /> The owner's sites</label>
          {siteIds !== null &&
            sites.map((s) => (
              <label key={s.id}>
                <input type="checkbox" checked={siteIds.includes(s.id)} onChange={(e) => setSiteIds(e.currentTarget.checked ? [...siteIds, s.id] : siteIds.filter((x) => x !== s.id))} /> {s.name}
              </label>
            ))}
        </fieldset>
        <button type="submit">Create token</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
      <table class="token-list">
        <thead><tr><th>Name</th><th>Starts with</th><th>Owner</th><th>Scopes</th><th>Sites</th><th>Last used</th><th /></tr></thead>
        <tbody>
          {tokens.map((t) => (
            <tr key={t.id} data-token={t.name} class={t.revoked_at ? "revoked" : ""}>
              <td>{t.name}</td>
              <td><code>{t.prefix}…</code></td>
              <td>{agentName(t.agent_id)}</td>
              <td>{t.scopes.join(", ")}</td>
              <td>{t.site_ids === null ? "owner's" : t.site_ids.join(", ")}</td>
              <td>{when(t.last_used_at)}</td>
              <td>{t.revoked_at ? `revoked ${when(t.revoked_at)}` : <button onClick={() => void revoke(t)}>Revoke</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
