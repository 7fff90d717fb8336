import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { errorText } from "../errors";
import { t, tValue } from "../i18n";
import type { Site } from "../types";
import { LifecycleCard } from "./Lifecycle";
import { ChannelsCard } from "./Channels";
import { MailboxCard } from "./Mailbox";
import { PrivacyCard } from "./Privacy";

function lines(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

async function copy(text: string, el: HTMLTextAreaElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!el) return false;
    el.select();
    return document.execCommand("copy");
  }
}

function SiteCard({ site, onChange }: { site: Site; onChange: (s: Site) => void }) {
  const [origins, setOrigins] = useState(site.allowed_origins.join("\n"));
  const [showSecret, setShowSecret] = useState(false);
  const [msg, setMsg] = useState("");
  let snippetEl: HTMLTextAreaElement | null = null;

  async function patch(body: object, done: string) {
    try {
      onChange(await api<Site>("PATCH", `/api/sites/${site.id}`, body));
      setMsg(done);
    } catch (e: any) {
      setMsg(errorText(e));
    }
  }

  return (
    <article class="card site" data-site={site.id}>
      <h3 dir="auto">{site.name}</h3>
      <p>
        {t("sites.widgetKey")} <code>{site.widget_key}</code>
      </p>
      <label>
        {t("sites.snippet")}
        <textarea
          class="snippet"
          readOnly
          rows={2}
          value={site.embed_snippet}
          ref={(el) => {
            snippetEl = el;
          }}
        />
      </label>
      <button
        onClick={async () => setMsg((await copy(site.embed_snippet, snippetEl)) ? t("sites.copied") : t("sites.copyFailed"))}
      >
        {t("sites.copy")}
      </button>
      <label>
        {t("sites.origins")}
        <textarea rows={3} value={origins} onInput={(e) => setOrigins(e.currentTarget.value)} />
      </label>
      <button onClick={() => void patch({ allowed_origins: lines(origins) }, t("sites.originsSaved"))}>
        {t("sites.saveOrigins")}
      </button>
      <div class="secret">
        {t("sites.secret")}{" "}
        <code data-testid="identity-secret">{showSecret ? site.identity_secret : "••••••••••••"}</code>{" "}
        <button onClick={() => setShowSecret(!showSecret)}>{showSecret ? t("sites.hide") : t("sites.show")}</button>{" "}
        <button
          onClick={() => {
            if (confirm(t("sites.confirmRotate")))
              void patch({ rotate_identity_secret: true }, t("sites.rotated"));
          }}
        >
          {t("sites.rotate")}
        </button>
      </div>
      {msg && <p class="info" role="status">{msg}</p>}
      <MailboxCard siteId={site.id} />
      <PrivacyCard siteId={site.id} />
      <LifecycleCard siteId={site.id} />
      <ChannelsCard siteId={site.id} />
    </article>
  );
}

export function Sites() {
  const [sites, setSites] = useState<Site[]>([]);
  const [name, setName] = useState("");
  const [origins, setOrigins] = useState("");
  const [error, setError] = useState("");

  useEffect(() => {
    api<Site[]>("GET", "/api/sites").then(setSites, (e) => setError(errorText(e)));
  }, []);

  async function create(e: Event) {
    e.preventDefault();
    setError("");
    try {
      const site = await api<Site>("POST", "/api/sites", { name, allowed_origins: lines(origins) });
      setSites([...sites, site]);
      setName("");
      setOrigins("");
    } catch (err: any) {
      setError(errorText(err));
    }
  }

  const replace = (s: Site) => setSites(sites.map((x) => (x.id === s.id ? s : x)));
  return (
    <section class="admin">
      <h2>{t("nav.sites")}</h2>
      <form class="card create" onSubmit={create} aria-label={t("sites.create")}>
        <h3>{t("sites.new")}</h3>
        <label>
          {t("contacts.name")}
          <input name="site-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </label>
        <label>
          {t("sites.originsNew")}
          <textarea name="site-origins" rows={2} value={origins} onInput={(e) => setOrigins(e.currentTarget.value)} />
        </label>
        <button type="submit">{t("sites.create")}</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
      {sites.map((s) => (
        <SiteCard key={s.id} site={s} onChange={replace} />
      ))}
    </section>
  );
}
