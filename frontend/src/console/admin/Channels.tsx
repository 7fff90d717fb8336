// A site's messaging accounts (WhatsApp Cloud API, Messenger, Telegram) and WhatsApp templates.
// Tokens and secrets are write-only: the server says only whether one is set; each account shows
// the webhook URL to enter at the platform (docs/channels.md).
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";

interface Account {
  id: number;
  kind: "whatsapp" | "messenger" | "telegram";
  name: string;
  external_id: string;
  phone: string;
  webhook_url: string;
  access_token_set: boolean;
  app_secret_set: boolean;
  verify_token_set: boolean;
  bot: boolean;
  enabled: boolean;
}

interface Template {
  id: number;
  name: string;
  language: string;
  body: string;
  variables: number;
}

const HELP: Record<Account["kind"], { id: string; token: string; verify: string }> = {
  whatsapp: { id: "Phone number id", token: "Access token (system user)", verify: "Verify token (your choice)" },
  messenger: { id: "Page id", token: "Page access token", verify: "Verify token (your choice)" },
  telegram: { id: "", token: "Bot token (from BotFather)", verify: "Secret token (for setWebhook)" },
};

export function ChannelsCard({ siteId }: { siteId: number }) {
  const [accounts, setAccounts] = useState<Account[]>([]);
  const [templates, setTemplates] = useState<Template[]>([]);
  const [kind, setKind] = useState<Account["kind"]>("whatsapp");
  const [form, setForm] = useState({ name: "", external_id: "", phone: "", access_token: "", app_secret: "", verify_token: "", bot: false });
  const [tpl, setTpl] = useState({ name: "", language: "en", body: "" });
  const [msg, setMsg] = useState("");

  async function load() {
    try {
      setAccounts(await api<Account[]>("GET", `/api/sites/${siteId}/channel-accounts`));
      setTemplates(await api<Template[]>("GET", `/api/sites/${siteId}/templates`));
    } catch (e: any) {
      setMsg(e.message);
    }
  }
  useEffect(() => void load(), [siteId]);

  async function connect(e: Event) {
    e.preventDefault();
    const body: Record<string, unknown> = { kind, name: form.name, external_id: form.external_id, phone: form.phone, bot: form.bot, access_token: form.access_token };
    if (form.app_secret) body.app_secret = form.app_secret;
    if (form.verify_token) body.verify_token = form.verify_token;
    try {
      await api("POST", `/api/sites/${siteId}/channel-accounts`, body);
      setForm({ name: "", external_id: "", phone: "", access_token: "", app_secret: "", verify_token: "", bot: false });
      setMsg(`${kind} account connected; enter its webhook URL at the platform.`);
      await load();
    } catch (err: any) {
      setMsg(err.message);
    }
  }

  async function remove(a: Account) {
    try {
      await api("DELETE", `/api/sites/${siteId}/channel-accounts/${a.id}`);
      await load();
    } catch (err: any) {
      setMsg(err.message);
    }
  }

  async function addTemplate(e: Event) {
    e.preventDefault();
    try {
      await api("POST", `/api/sites/${siteId}/templates`, tpl);
      setTpl({ name: "", language: "en", body: "" });
      await load();
    } catch (err: any) {
      setMsg(err.message);
    }
  }

  const h = HELP[kind];
  const input = (k: keyof typeof form, label: string, type = "text") => (
    <label>
      {label}
      <input name={`channel-${k}`} type={type} value={String(form[k])} onInput={(e) => setForm({ ...form, [k]: e.currentTarget.value })} />
    </label>
  );
  return (
    <div class="channels" aria-label="Messaging channels">
      <h4>Messaging channels</h4>
      <table class="channel-accounts">
        <tbody>
          {accounts.map((a) => (
            <tr key={a.id} data-account={a.kind}>
              <td>{a.kind}</td>
              <td>{a.name || a.external_id}</td>
              <td>
                <code data-field="webhook-url">{a.webhook_url}</code>
              </td>
              <td>{a.bot ? "FAQ bot first" : "people"}</td>
              <td>
                <button type="button" onClick={() => void remove(a)}>
                  Disconnect
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="mailbox-form" onSubmit={connect} aria-label="Connect a messaging account">
        <label>
          Platform
          <select name="channel-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as Account["kind"])}>
            <option value="whatsapp">WhatsApp (Cloud API)</option>
            <option value="messenger">Facebook Messenger (and page comments)</option>
            <option value="telegram">Telegram bot</option>
          </select>
        </label>
        {input("name", "Name")}
        {h.id && input("external_id", h.id)}
        {kind === "whatsapp" && input("phone", "Phone number (for the wa.me link)")}
        {input("access_token", h.token, "password")}
        {kind !== "telegram" && input("app_secret", "App secret (signatures)", "password")}
        {input("verify_token", h.verify, "password")}
        <label>
          <span>
            <input type="checkbox" name="channel-bot" checked={form.bot} onChange={(e) => setForm({ ...form, bot: e.currentTarget.checked })} /> The FAQ bot answers first
          </span>
        </label>
        <button type="submit">Connect</button>
      </form>
      <h4>WhatsApp templates</h4>
      <ul class="templates">
        {templates.map((t) => (
          <li key={t.id}>
            <strong>{t.name}</strong> ({t.language}): <span dir="auto">{t.body}</span>
          </li>
        ))}
      </ul>
      <form class="mailbox-form" onSubmit={addTemplate} aria-label="Add a template">
        <label>
          Name (as approved by Meta)
          <input name="template-name" value={tpl.name} onInput={(e) => setTpl({ ...tpl, name: e.currentTarget.value })} />
        </label>
        <label>
          Language
          <input name="template-language" value={tpl.language} onInput={(e) => setTpl({ ...tpl, language: e.currentTarget.value })} />
        </label>
        <label class="wide">
          Text with {"{{1}}"}, {"{{2}}"}…
          <input name="template-body" value={tpl.body} onInput={(e) => setTpl({ ...tpl, body: e.currentTarget.value })} />
        </label>
        <button type="submit">Add template</button>
      </form>
      {msg && <p class="info" role="status">{msg}</p>}
    </div>
  );
}
