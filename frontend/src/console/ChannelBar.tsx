// Above the composer of a conversation on a messaging channel: how long a free reply is still
// possible (WhatsApp and Messenger's 24-hour window, Messenger's 7-day human-agent tag), the
// template picker once WhatsApp's window closed, and, for a public page comment, the private
// reply that opens a Messenger conversation. All of it from GET /api/conversations/{id}/composer.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import { channelLabel } from "./deliveries";
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
  if (h >= 48) return `${Math.floor(h / 24)} days`;
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
  if (info.public) return "Public comment on your page: a reply here is posted publicly under it.";
  const w = info.window;
  if (!w) return `${via}: replies go out on ${via}.`;
  if (w.mode === "free") return `${via}: free reply possible for ${left(w.seconds_left)}.`;
  if (w.mode === "tag") return `${via}: the 24-hour window closed; replies go out with the human-agent tag for ${left(w.seconds_left)}.`;
  if (w.mode === "template") return `${via}: the 24-hour window closed. Only an approved template can be sent until the customer writes again.`;
  return `${via}: the customer last wrote more than 7 days ago; no reply is possible until they write again.`;
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
          Open the private conversation
        </button>
      )}
      {info.comment_conversation_id && (
        <button type="button" onClick={() => void store.open(info.comment_conversation_id!)}>
          Open the public comment
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
  const t = templates.find((x) => x.id === id) ?? templates[0];
  const values = Array.from({ length: t.variables }, (_, i) => vars[i] ?? "");
  const preview = t.body.replace(/\{\{(\d+)\}\}/g, (_, n) => values[Number(n) - 1] || `{{${n}}}`);

  async function send() {
    setBusy(true);
    try {
      await api("POST", `/api/conversations/${convId}/template`, {
        template_id: t.id,
        variables: values,
        client_msg_id: `tpl-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
      });
      setVars([]);
      store.flash(`Template ${t.name} sent.`);
    } catch (e) {
      store.flash(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  if (!shown)
    return (
      <button type="button" data-action="templates" onClick={() => setShown(true)}>
        Templates
      </button>
    );
  return (
    <div class="template-picker" aria-label="Send a template">
      <select name="template" value={t.id} onChange={(e) => { setId(Number(e.currentTarget.value)); setVars([]); }}>
        {templates.map((x) => (
          <option key={x.id} value={x.id}>
            {x.name} ({x.language})
          </option>
        ))}
      </select>
      {values.map((v, i) => (
        <input
          key={`${t.id}-${i}`}
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
        Send template
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
      store.flash(e instanceof ApiError ? e.message : String(e));
    }
  }
  if (!shown)
    return (
      <button type="button" data-action="private-reply" onClick={() => setShown(true)}>
        Reply privately
      </button>
    );
  return (
    <div class="private-reply">
      <textarea name="private-reply" rows={2} dir="auto" placeholder="A private Messenger message to the commenter" value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <button type="button" disabled={!text.trim()} onClick={() => void send()}>
        Send privately
      </button>
    </div>
  );
}
