// Above the composer of a conversation on a messaging channel: how long a free reply is still
// possible (WhatsApp and Messenger's 24-hour window, Messenger's 7-day human-agent tag), the
// template picker once WhatsApp's window closed, and, for a public page comment, the private
// reply that opens a Messenger conversation. All of it from GET /api/conversations/{id}/composer.
import { useEffect, useState } from "preact/hooks";
import { api } from "./api";
import { channelLabel } from "./deliveries";
import { errorText } from "./errors";
import { t } from "./i18n";
import type { Store } from "./store";

export interface Template {
  id: number;
  name: string;
  language: string;
  body: string;
  variables: number;
}

export interface ComposerInfo {
  channel: string;
  window: { mode: "free" | "tag" | "template" | "closed"; seconds_left: number } | null;
  templates: Template[];
  cobrowse: boolean;
  public: boolean;
  private_reply: boolean;
  private_conversation_id: number | null;
  comment_conversation_id: number | null;
}

export const MESSAGING = new Set(["whatsapp", "messenger", "telegram", "facebook"]);

function left(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (h >= 48) return t("bar.days", { n: Math.floor(h / 24) });
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}

/** The composer's facts, reloaded when the conversation gets a message and every minute. */
export function useComposerInfo(store: Store, convId: number, channel: string | undefined, lastSeq: number): ComposerInfo | null {
  const [info, setInfo] = useState<ComposerInfo | null>(null);
  useEffect(() => {
    if (!channel || !MESSAGING.has(channel)) {
      setInfo(null);
      return;
    }
    let live = true;
    const load = () =>
      api<ComposerInfo>("GET", `/api/conversations/${convId}/composer`)
        .then((i) => live && setInfo(i))
        .catch(() => undefined);
    void load();
    const timer = window.setInterval(load, 60_000);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [convId, channel, lastSeq]);
  return info;
}

export function windowText(info: ComposerInfo): string {
  const via = channelLabel(info.channel);
  if (info.public) return t("bar.public");
  const w = info.window;
  if (!w) return t("bar.via", { via });
  if (w.mode === "free") return t("bar.free", { via, left: left(w.seconds_left) });
  if (w.mode === "tag") return t("bar.tag", { via, left: left(w.seconds_left) });
  if (w.mode === "template") return t("bar.template", { via });
  return t("bar.closed", { via });
}

export function ChannelBar({ store, convId, info }: { store: Store; convId: number; info: ComposerInfo }) {
  const mode = info.window?.mode;
  return (
    <div class={`channel-bar window-${mode ?? "none"}`} data-window={mode ?? "none"}>
      <span class="window-text" data-field="window">{windowText(info)}</span>
      {info.channel === "whatsapp" && info.templates.length > 0 && (
        <TemplatePicker store={store} convId={convId} templates={info.templates} open={mode === "template"} />
      )}
      {info.private_reply && <PrivateReply store={store} convId={convId} />}
      {info.private_conversation_id && (
        <button type="button" onClick={() => void store.open(info.private_conversation_id!)}>
          {t("bar.openPrivate")}
        </button>
      )}
      {info.comment_conversation_id && (
        <button type="button" onClick={() => void store.open(info.comment_conversation_id!)}>
          {t("bar.openPublic")}
        </button>
      )}
    </div>
  );
}

function TemplatePicker({ store, convId, templates, open }: { store: Store; convId: number; templates: Template[]; open: boolean }) {
  const [shown, setShown] = useState(open);
  const [id, setId] = useState(templates[0].id);
  const [vars, setVars] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  useEffect(() => setShown(open), [open, convId]);
  const tpl = templates.find((x) => x.id === id) ?? templates[0];
  const values = Array.from({ length: tpl.variables }, (_, i) => vars[i] ?? "");
  const preview = tpl.body.replace(/\{\{(\d+)\}\}/g, (_, n) => values[Number(n) - 1] || `{{${n}}}`);

  async function send() {
    setBusy(true);
    try {
      await api("POST", `/api/conversations/${convId}/template`, {
        template_id: tpl.id,
        variables: values,
        client_msg_id: `tpl-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
      });
      setVars([]);
      store.flash(t("bar.templateSent", { name: tpl.name }));
    } catch (e) {
      store.flash(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  if (!shown)
    return (
      <button type="button" data-action="templates" onClick={() => setShown(true)}>
        {t("bar.templates")}
      </button>
    );
  return (
    <div class="template-picker" aria-label={t("bar.sendATemplate")}>
      <select name="template" value={tpl.id} onChange={(e) => { setId(Number(e.currentTarget.value)); setVars([]); }}>
        {templates.map((x) => (
          <option key={x.id} value={x.id}>
            {x.name} ({x.language})
          </option>
        ))}
      </select>
      {values.map((v, i) => (
        <input
          key={`${tpl.id}-${i}`}
          name={`variable-${i + 1}`}
          placeholder={`{{${i + 1}}}`}
          value={v}
          onInput={(e) => {
            const next = [...values];
            next[i] = e.currentTarget.value;
            setVars(next);
          }}
        />
      ))}
      <div class="template-preview" dir="auto" data-field="template-preview">{preview}</div>
      <button type="button" data-action="send-template" disabled={busy || values.some((v) => !v.trim())} onClick={() => void send()}>
        {t("bar.sendTemplate")}
      </button>
    </div>
  );
}

function PrivateReply({ store, convId }: { store: Store; convId: number }) {
  const [text, setText] = useState("");
  const [shown, setShown] = useState(false);
  async function send() {
    try {
      const r = await api<{ conversation_id: number }>("POST", `/api/conversations/${convId}/private-reply`, {
        body: text,
        client_msg_id: `pr-${Date.now()}`,
      });
      setText("");
      setShown(false);
      await store.open(r.conversation_id);
    } catch (e) {
      store.flash(errorText(e));
    }
  }
  if (!shown)
    return (
      <button type="button" data-action="private-reply" onClick={() => setShown(true)}>
        {t("bar.replyPrivately")}
      </button>
    );
  return (
    <div class="private-reply">
      <textarea name="private-reply" rows={2} dir="auto" placeholder={t("bar.privatePlaceholder")} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <button type="button" disabled={!text.trim()} onClick={() => void send()}>
        {t("bar.sendPrivately")}
      </button>
    </div>
  );
}
