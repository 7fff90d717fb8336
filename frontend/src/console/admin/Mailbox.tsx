// A site's support mailbox (email channel): where replies are sent from (SMTP) and read from
// (IMAP). Passwords are write-only: the server says only whether one is set (docs/channels.md).
import { useEffect, useState } from "preact/hooks";
import { ApiError, api } from "../api";
import { errorText } from "../errors";
import { t } from "../i18n";

interface MailboxView {
  from_address: string;
  from_name: string;
  smtp_host: string;
  smtp_port: number;
  smtp_security: string;
  smtp_user: string;
  smtp_password_set: boolean;
  imap_host: string;
  imap_port: number;
  imap_security: string;
  imap_user: string;
  imap_password_set: boolean;
  imap_folder: string;
  imap_last_uid: number;
  verify_tls: boolean;
}

const EMPTY: MailboxView = {
  from_address: "",
  from_name: "",
  smtp_host: "",
  smtp_port: 587,
  smtp_security: "starttls",
  smtp_user: "",
  smtp_password_set: false,
  imap_host: "",
  imap_port: 993,
  imap_security: "tls",
  imap_user: "",
  imap_password_set: false,
  imap_folder: "INBOX",
  imap_last_uid: 0,
  verify_tls: true,
};

type Field = keyof MailboxView;

export function MailboxCard({ siteId }: { siteId: number }) {
  const [box, setBox] = useState<MailboxView>(EMPTY);
  const [smtpPw, setSmtpPw] = useState("");
  const [imapPw, setImapPw] = useState("");
  const [msg, setMsg] = useState("");

  useEffect(() => {
    api<MailboxView>("GET", `/api/sites/${siteId}/mailbox`).then(setBox, (e: ApiError) => {
      if (e.status !== 404) setMsg(errorText(e));
    });
  }, [siteId]);

  const set = (k: Field, v: string | number | boolean) => setBox({ ...box, [k]: v });
  const text = (k: Field, label: string, type = "text") => (
    <label>
      {label}
      <input
        name={`mailbox-${k}`}
        type={type}
        value={String(box[k])}
        onInput={(e) => set(k, type === "number" ? Number(e.currentTarget.value) : e.currentTarget.value)}
      />
    </label>
  );
  const security = (k: Field, label: string) => (
    <label>
      {label}
      <select name={`mailbox-${k}`} value={String(box[k])} onChange={(e) => set(k, e.currentTarget.value)}>
        <option value="starttls">STARTTLS</option> {/* i18n-ignore: protocol names */}
        <option value="tls">TLS</option> {/* i18n-ignore */}
        <option value="none">{t("mail.none")}</option>
      </select>
    </label>
  );

  async function save(e: Event) {
    e.preventDefault();
    const { smtp_password_set, imap_password_set, imap_last_uid, ...fields } = box;
    const body = {
      ...fields,
      ...(smtpPw ? { smtp_password: smtpPw } : {}),
      ...(imapPw ? { imap_password: imapPw } : {}),
    };
    try {
      setBox(await api<MailboxView>("PUT", `/api/sites/${siteId}/mailbox`, body));
      setSmtpPw("");
      setImapPw("");
      setMsg(t("mail.saved"));
    } catch (err: any) {
      setMsg(errorText(err));
    }
  }

  return (
    <form class="mailbox" onSubmit={save} aria-label={t("mail.label")}>
      <h4>{t("mail.title")}</h4>
      <div class="mailbox-form">
        {text("from_address", t("mail.fromAddress"))}
        {text("from_name", t("mail.fromName"))}
        {text("smtp_host", t("mail.host", { p: "SMTP" }))}
        {text("smtp_port", t("mail.port", { p: "SMTP" }), "number")}
        {security("smtp_security", t("mail.security", { p: "SMTP" }))}
        {text("smtp_user", t("mail.user", { p: "SMTP" }))}
        <label>
          {t("mail.password", { p: "SMTP" })} {box.smtp_password_set ? t("mail.passwordSet") : ""}
          <input name="mailbox-smtp_password" type="password" value={smtpPw} onInput={(e) => setSmtpPw(e.currentTarget.value)} />
        </label>
        {text("imap_host", t("mail.host", { p: "IMAP" }))}
        {text("imap_port", t("mail.port", { p: "IMAP" }), "number")}
        {security("imap_security", t("mail.security", { p: "IMAP" }))}
        {text("imap_user", t("mail.user", { p: "IMAP" }))}
        <label>
          {t("mail.password", { p: "IMAP" })} {box.imap_password_set ? t("mail.passwordSet") : ""}
          <input name="mailbox-imap_password" type="password" value={imapPw} onInput={(e) => setImapPw(e.currentTarget.value)} />
        </label>
        {text("imap_folder", t("mail.folder"))}
        <label>
          <span>
            <input type="checkbox" checked={box.verify_tls} onChange={(e) => set("verify_tls", e.currentTarget.checked)} /> {t("mail.verifyTls")}
          </span>
        </label>
        <p class="wide">{t("mail.readUpTo", { uid: box.imap_last_uid })}</p>
      </div>
      <button type="submit">{t("mail.save")}</button>
      {msg && <p class="info" role="status">{msg}</p>}
    </form>
  );
}
