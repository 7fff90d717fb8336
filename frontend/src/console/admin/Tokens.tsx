import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { errorText } from "../errors";
import { t } from "../i18n";
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

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : t("tok.never"));

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
    api<{ items: Token[] }>("GET", "/api/tokens?limit=200").then((r) => setTokens(r.items), (e) => setError(errorText(e)));
    api<{ resources: string[] }>("GET", "/api/scopes").then((r) => setResources(r.resources), (e) => setError(errorText(e)));
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
      setError(errorText(err));
    }
  }

  async function revoke(tok: Token) {
    if (!confirm(t("tok.confirmRevoke", { name: tok.name }))) return;
    try {
      const r = await api<Token>("DELETE", `/api/tokens/${tok.id}`);
      setTokens(tokens.map((x) => (x.id === r.id ? r : x)));
    } catch (err: any) {
      setError(errorText(err));
    }
  }

  const agentName = (id: number) => agents.find((a) => a.id === id)?.username ?? `#${id}`;
  return (
    <section class="admin tokens">
      <h2>{t("nav.tokens")}</h2>
      <p class="hint">
        {t("tok.hint")} <code>Authorization: Bearer …</code> {/* i18n-ignore: a header */}
      </p>
      {shown && (
        <div class="card token-shown" role="status">
          <p>
            {t("tok.shown", { name: shown.name })}
          </p>
          <input class="token-value" readOnly value={shown.token} aria-label={t("tok.new")} onFocus={(e) => e.currentTarget.select()} />
          <button onClick={() => setShown(null)}>{t("hooks.done")}</button>
        </div>
      )}
      <form class="card create" onSubmit={create} aria-label={t("tok.create")}>
        <h3>{t("tok.new")}</h3>
        <label>{t("contacts.name")} <input name="token_name" value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} /></label>
        <label>{t("tok.owner")}
          <select value={owner} onChange={(e) => setOwner(e.currentTarget.value)} aria-label={t("tok.owner")}>
            <option value="">{t("tok.me")}</option>
            {agents.map((a) => (
              <option key={a.id} value={String(a.id)}>{a.username}</option>
            ))}
          </select>
        </label>
        <table class="scopes">
          <thead><tr><th>{t("tok.resource")}</th><th>{t("tok.none")}</th><th>{t("tok.read")}</th><th>{t("tok.write")}</th></tr></thead>
          <tbody>
            {resources.map((r) => (
              <tr key={r} data-resource={r}>
                <td>{r}</td>
                {(["", "read", "write"] as const).map((level) => (
                  <td key={level}>
                    <input type="radio" name={`scope-${r}`} aria-label={`${r} ${level || "none"}`} /* i18n-ignore: scope names are API words */ checked={(scopes[r] ?? "") === level} onChange={() => setScopes({ ...scopes, [r]: level })} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        <fieldset aria-label={t("tok.sites")}>
          <label><input type="checkbox" checked={siteIds === null} onChange={(e) => setSiteIds(e.currentTarget.checked ? null : [])} /> {t("tok.ownerSites")}</label>
          {siteIds !== null &&
            sites.map((s) => (
              <label key={s.id}>
                <input type="checkbox" checked={siteIds.includes(s.id)} onChange={(e) => setSiteIds(e.currentTarget.checked ? [...siteIds, s.id] : siteIds.filter((x) => x !== s.id))} /> {s.name}
              </label>
            ))}
        </fieldset>
        <button type="submit">{t("tok.create")}</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
      <table class="token-list">
        <thead>
          <tr>
            <th>{t("contacts.name")}</th>
            <th>{t("tok.prefix")}</th>
            <th>{t("tok.owner")}</th>
            <th>{t("tok.scopes")}</th>
            <th>{t("nav.sites")}</th>
            <th>{t("tok.lastUsed")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {tokens.map((tok) => (
            <tr key={tok.id} data-token={tok.name} class={tok.revoked_at ? "revoked" : ""}>
              <td>{tok.name}</td>
              <td><code>{tok.prefix}…</code></td>
              <td>{agentName(tok.agent_id)}</td>
              <td>{tok.scopes.join(", ")}</td>
              <td>{tok.site_ids === null ? t("tok.ownersSites") : tok.site_ids.join(", ")}</td>
              <td>{when(tok.last_used_at)}</td>
              <td>{tok.revoked_at ? t("tok.revoked", { time: when(tok.revoked_at) }) : <button onClick={() => void revoke(tok)}>{t("tok.revoke")}</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
