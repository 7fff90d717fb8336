// A site's messaging accounts (WhatsApp Cloud API, Messenger, Telegram) and WhatsApp templates.
// Tokens and secrets are write-only: the server says only whether one is set; each account shows
// the webhook URL to enter at the platform (docs/channels.md).
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { errorText } from "../errors";
import { t, tValue } from "../i18n";
import type { Key } from "../i18n";

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

const HELP: Record<Account["kind"], { id: Key | null; token: Key; verify: Key }> = {
  whatsapp: { id: "chan.waId", token: "chan.waToken", verify: "chan.verify" },
  messenger: { id: "chan.pageId", token: "chan.pageToken", verify: "chan.verify" },
  telegram: { id: null, token: "chan.botToken", verify: "chan.secretToken" },
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
      setMsg(errorText(e));
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
      setMsg(t("chan.connected", { kind: tValue("kind", kind) }));
      await load();
    } catch (err: any) {
      setMsg(errorText(err));
    }
  }

  async function remove(a: Account) {
    try {
      await api("DELETE", `/api/sites/${siteId}/channel-accounts/${a.id}`);
      await load();
    } catch (err: any) {
      setMsg(errorText(err));
    }
  }

  async function addTemplate(e: Event) {
    e.preventDefault();
    try {
      await api("POST", `/api/sites/${siteId}/templates`, tpl);
      setTpl({ name: "", language: "en", body: "" });
      await load();
    } catch (err: any) {
      setMsg(errorText(err));
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
    <div class="channels" aria-label={t("chan.title")}>
      <h4>{t("chan.title")}</h4>
      <table class="channel-accounts">
        <tbody>
          {accounts.map((a) => (
            <tr key={a.id} data-account={a.kind}>
              <td>{tValue("kind", a.kind)}</td>
              <td>{a.name || a.external_id}</td>
              <td>
                <code data-field="webhook-url">{a.webhook_url}</code>
              </td>
              <td>{a.bot ? t("chan.botFirst") : t("chan.people")}</td>
              <td>
                <button type="button" onClick={() => void remove(a)}>
                  {t("chan.disconnect")}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="mailbox-form" onSubmit={connect} aria-label={t("chan.connect")}>
        <label>
          {t("chan.platform")}
          <select name="channel-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as Account["kind"])}>
            <option value="whatsapp">{t("chan.wa")}</option>
            <option value="messenger">{t("chan.fb")}</option>
            <option value="telegram">{t("chan.tg")}</option>
          </select>
        </label>
        {input("name", t("contacts.name"))}
        {h.id && input("external_id", t(h.id))}
        {kind === "whatsapp" && input("phone", t("chan.phone"))}
        {input("access_token", t(h.token), "password")}
        {kind !== "telegram" && input("app_secret", t("chan.appSecret"), "password")}
        {input("verify_token", t(h.verify), "password")}
        <label>
          <span>
            <input type="checkbox" name="channel-bot" checked={form.bot} onChange={(e) => setForm({ ...form, bot: e.currentTarget.checked })} /> {t("chan.botAnswers")}
          </span>
        </label>
        <button type="submit">{t("chan.connectButton")}</button>
      </form>
      <h4>{t("chan.templates")}</h4>
      <ul class="templates">
        {templates.map((x) => (
          <li key={x.id}>
            <strong>{x.name}</strong> ({x.language}): <span dir="auto">{x.body}</span>
          </li>
        ))}
      </ul>
      <form class="mailbox-form" onSubmit={addTemplate} aria-label={t("chan.addTemplateLabel")}>
        <label>
          {t("chan.templateName")}
          <input name="template-name" value={tpl.name} onInput={(e) => setTpl({ ...tpl, name: e.currentTarget.value })} />
        </label>
        <label>
          {t("canned.language")}
          <input name="template-language" value={tpl.language} onInput={(e) => setTpl({ ...tpl, language: e.currentTarget.value })} />
        </label>
        <label class="wide">
          {t("chan.templateText", { a: "{{1}}", b: "{{2}}" })}
          <input name="template-body" value={tpl.body} onInput={(e) => setTpl({ ...tpl, body: e.currentTarget.value })} />
        </label>
        <button type="submit">{t("chan.addTemplate")}</button>
      </form>
      {msg && <p class="info" role="status">{msg}</p>}
    </div>
  );
}
