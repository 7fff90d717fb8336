// A site's support mailbox (email channel): where replies are sent from (SMTP) and read from
// (IMAP). Passwords are write-only: the server says only whether one is set (docs/channels.md).
import { useEffect, useState } from "preact/hooks";
import { ApiError, api } from "../api";

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
      if (e.status !== 404) setMsg(e.message);
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
        <option value="starttls">STARTTLS</option>
        <option value="tls">TLS</option>
        <option value="none">none (loopback only)</option>
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
      setMsg("Mailbox saved.");
    } catch (err: any) {
      setMsg(err.message);
    }
  }

  return (
    <form class="mailbox" onSubmit={save} aria-label="Mailbox">
      <h4>Mailbox (email channel)</h4>
      <div class="mailbox-form">
        {text("from_address", "From address")}
        {text("from_name", "From name")}
        {text("smtp_host", "SMTP host")}
        {text("smtp_port", "SMTP port", "number")}
        {security("smtp_security", "SMTP security")}
        {text("smtp_user", "SMTP user")}
        <label>
          SMTP password {box.smtp_password_set ? "(set; leave empty to keep)" : ""}
          <input name="mailbox-smtp_password" type="password" value={smtpPw} onInput={(e) => setSmtpPw(e.currentTarget.value)} />
        </label>
        {text("imap_host", "IMAP host")}
        {text("imap_port", "IMAP port", "number")}
        {security("imap_security", "IMAP security")}
        {text("imap_user", "IMAP user")}
        <label>
          IMAP password {box.imap_password_set ? "(set; leave empty to keep)" : ""}
          <input name="mailbox-imap_password" type="password" value={imapPw} onInput={(e) => setImapPw(e.currentTarget.value)} />
        </label>
        {text("imap_folder", "IMAP folder")}
        <label>
          <span>
            <input type="checkbox" checked={box.verify_tls} onChange={(e) => set("verify_tls", e.currentTarget.checked)} /> Verify TLS certificates
          </span>
        </label>
        <p class="wide">IMAP read up to UID {box.imap_last_uid}.</p>
      </div>
      <button type="submit">Save mailbox</button>
      {msg && <p class="info" role="status">{msg}</p>}
    </form>
  );
}
