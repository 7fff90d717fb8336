import { isolate } from "../shared/bidi";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { CobrowseBar } from "./cobrowse/CobrowsePanel";
import { api } from "./api";
import { Composer } from "./Composer";
import { ConvTools } from "./ConvTools";
import { OfferBanner, RoutingInfo, TransferDialog } from "./Routing";
import { channelLabel, deliveryText, type Delivery } from "./deliveries";
import { MESSAGING } from "./ChannelBar";
import type { Store } from "./store";
import { Linked } from "../shared/Linked";
import type { Attachment } from "../shared/protocol";
import { timeOf } from "./text";
import type { Msg, Pending } from "./types";
import { visitorName } from "./types";
import { LifecycleBar, readOnlyFor } from "./Lifecycle";
import { t, tValue } from "./i18n";

function DeliveryLine({ d }: { d: Delivery }) {
  return (
    <div class={`delivery delivery-${d.status}`} data-delivery={d.status} data-receipt={d.receipt ?? ""} role={d.status === "failed" ? "alert" : undefined}>
      {d.channel === "email" ? "✉ " : ""}
      {deliveryText(d)}
    </div>
  );
}

/** Files on a message: images as a preview, everything else as a download; both served by
 * `/api/channel-media/<key>` (nosniff, sandboxed, only to agents who may see the chat). */
export function Files({ files }: { files?: (Attachment & { href?: string })[] }) {
  if (!files?.length) return null;
  return (
    <ul class="attachments">
      {files.map((a) => {
        const href = a.href ?? `/api/channel-media/${encodeURIComponent(a.key)}`;
        return (
          <li key={a.key} class="attachment" data-type={a.type}>
            {a.type.startsWith("image/") && (
              <a href={href} target="_blank" rel="noopener noreferrer">
                <img src={href} alt={a.name} loading="lazy" />
              </a>
            )}
            <a href={href} download={a.name} aria-label={t("msg.file", { name: a.name })}>
              <span dir="auto">{a.name}</span> {t("msg.fileSize", { kb: Math.max(1, Math.round(a.size / 1024)) })}
            </a>
          </li>
        );
      })}
    </ul>
  );
}

interface MailFile {
  seq: number;
  mail_id: number;
  index: number;
  name: string;
  type: string;
  size: number;
}

/** The files of the customer's mails in an email conversation, read from the stored originals
 * (docs/attachments.md), by the seq of the message they came with. */
function useMailFiles(convId: number, channel: string | undefined, lastSeq: number): Map<number, (Attachment & { href: string })[]> {
  const [files, setFiles] = useState(new Map<number, (Attachment & { href: string })[]>());
  useEffect(() => {
    if (channel !== "email") return;
    let stale = false;
    api<MailFile[]>("GET", `/api/conversations/${convId}/mail-files`).then(
      (rows) => {
        if (stale) return;
        const by = new Map<number, (Attachment & { href: string })[]>();
        for (const f of rows) {
          const key = `mail-${f.mail_id}-${f.index}`;
          by.set(f.seq, [...(by.get(f.seq) ?? []), { key, name: f.name, type: f.type, size: f.size, href: `/api/mail-files/${f.mail_id}/${f.index}` }]);
        }
        setFiles(by);
      },
      () => undefined,
    );
    return () => {
      stale = true;
    };
  }, [convId, channel, lastSeq]);
  return files;
}

function Bubble({ m, seen, who, delivery, mailFiles }: { m: Msg; seen: boolean; who: string; delivery?: Delivery; mailFiles?: (Attachment & { href: string })[] }) {
  const cls = m.internal ? "note" : m.author.kind === "visitor" ? "from-visitor" : "from-agent";
  // The system's lines ("The visitor ended the chat", "Ben takes over the chat") sit in the middle.
  const sys = m.author.kind === "system" ? " system" : "";
  return (
    <li class={`msg ${cls}${sys}`} data-seq={m.seq} data-internal={m.internal ? "true" : "false"}>
      <div class="msg-head">
        {m.internal && <span class="note-label">{t("msg.note")}</span>}
        <span class="msg-author" dir="auto">
          {m.author.name || (m.author.kind === "visitor" ? who : m.author.kind)}
        </span>
        <span class="msg-time">{timeOf(m.created_at)}</span>
      </div>
      <div class="msg-body" dir="auto">
        <Linked text={m.body} />
      </div>
      <Files files={m.attachments} />
      <Files files={mailFiles} />
      {delivery && <DeliveryLine d={delivery} />}
      {seen && <div class="seen">{t("msg.seen")}</div>}
    </li>
  );
}

function PendingBubble({ p, store }: { p: Pending; store: Store }) {
  return (
    <li class={`msg ${p.internal ? "note" : "from-agent"} pending`} data-pending={p.client_msg_id}>
      <div class="msg-head">
        {p.internal && <span class="note-label">{t("msg.note")}</span>}
        <span class="msg-time">{p.status === "failed" ? t("msg.notSent") : t("msg.sending")}</span>
      </div>
      <div class="msg-body" dir="auto">
        {p.body}
      </div>
      {p.attachments && <Files files={p.attachments} />}
      {p.status === "failed" && (
        <div class="failed">
          <span>{p.error}</span>
          <button onClick={() => store.retry(p.client_msg_id)}>{t("msg.retry")}</button>
          <button onClick={() => store.discard(p.client_msg_id)}>{t("msg.discard")}</button>
        </div>
      )}
    </li>
  );
}

/** The chat's transcript by email: to the address typed, else the customer's known one. The
 * note it leaves in the chat shows whether the mail went out. */
function TranscriptForm({ store, convId, onDone }: { store: Store; convId: number; onDone: () => void }) {
  const [email, setEmail] = useState("");
  const send = async (ev: Event) => {
    ev.preventDefault();
    if (await store.mailTranscript(convId, email.trim())) onDone();
  };
  return (
    <form class="transcript-form" data-form="mail-transcript" onSubmit={send}>
      <label>
        <span>{t("pane.mailTranscriptTo")}</span>
        <input type="email" maxLength={320} value={email} placeholder={t("pane.mailTranscriptKnown")} onInput={(e) => setEmail(e.currentTarget.value)} />
      </label>
      <button type="submit">{t("pane.mailTranscriptSend")}</button>
      <button type="button" onClick={onDone}>
        {t("pane.cancel")}
      </button>
    </form>
  );
}

/** On a messaging channel a customer's message can arrive late (a platform's retry, a phone
 * back online): it is shown where its platform timestamp puts it (its `created_at`), not where
 * it arrived (its seq). */
function inTimeOrder(list: Msg[], channel: string | undefined): Msg[] {
  if (!channel || !MESSAGING.has(channel)) return list;
  return [...list].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.seq - b.seq);
}

export function ChatPane({ store, convId }: { store: Store; convId: number }) {
  const conv = store.convs.get(convId);
  const msgs = inTimeOrder(store.messagesOf(convId), conv?.channel);
  const pending = store.pendingOf(convId);
  const listRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const lastCount = useRef(0);
  const [transferring, setTransferring] = useState(false);
  const [mailing, setMailing] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  // The log turns live the render after its first page of history is shown.
  const historyIn = store.hasOlder.has(convId);
  const [live, setLive] = useState(false);
  const mailFiles = useMailFiles(convId, conv?.channel, conv?.last_seq ?? 0);
  useEffect(() => {
    if (historyIn && !live) setLive(true);
  }, [historyIn, live]);

  const count = msgs.length + pending.length;
  useLayoutEffect(() => {
    const el = listRef.current;
    if (el && (stick.current || count > lastCount.current)) {
      if (stick.current) el.scrollTop = el.scrollHeight;
    }
    lastCount.current = count;
  }, [count, convId]);

  useEffect(() => {
    stick.current = true;
  }, [convId]);

  if (!conv) return <section class="pane">{t("loading")}</section>;
  const agentMsgs = msgs.filter((m) => m.author.kind === "agent" && !m.internal);
  const seenSeq = agentMsgs.filter((m) => m.seq <= conv.visitor_read_seq).pop()?.seq;
  const typing = store.typing.get(convId);
  const resolved = conv.status === "resolved";
  const name = visitorName(conv.visitor, conv.visitor_id);

  return (
    <section class="pane" data-pane={convId} aria-label={t("pane.label", { id: convId })}>
      <header class="pane-head">
        <h2 dir="auto">{name}</h2>
        <span class={`status status-${conv.status}`}>{tValue("status", conv.status)}</span>
        {conv.channel !== "web" && (
          <span class={`channel channel-${conv.channel}`} data-channel={conv.channel}>
            {conv.channel === "email" ? t("pane.emailChannel") : channelLabel(conv.channel)}
          </span>
        )}
        <span class="spacer" />
        {conv.assignee_id !== store.me.id && conv.offered_to !== store.me.id && (
          <button onClick={() => void store.assignToMe(convId)}>{t("pane.assign")}</button>
        )}
        {!resolved && conv.channel === "email" && (
          <button
            data-action="invite-chat"
            title={t("pane.inviteTitle")}
            onClick={() => void store.inviteToChat(convId)}
          >
            {t("pane.invite")}
          </button>
        )}
        {conv.channel === "web" && (
          <button data-action="mail-transcript" aria-expanded={mailing} onClick={() => setMailing(!mailing)}>
            {t("pane.mailTranscript")}
          </button>
        )}
        {!resolved && (
          <button data-action="transfer" onClick={() => setTransferring(!transferring)}>
            {t("pane.transfer")}
          </button>
        )}
        {resolved ? (
          <button data-action="reopen" onClick={() => void store.setStatus(convId, "open")}>
            {t("pane.reopen")}
          </button>
        ) : (
          <button data-action="close" onClick={() => void store.setStatus(convId, "resolved")}>
            {t("pane.close")}
          </button>
        )}
      </header>
      <OfferBanner store={store} conv={conv} />
      <RoutingInfo conv={conv} />
      <ConvTools store={store} conv={conv} />
      {!MESSAGING.has(conv.channel) && <CobrowseBar store={store} convId={convId} />}
      <LifecycleBar store={store} conv={conv} />
      {transferring && <TransferDialog store={store} conv={conv} onClose={() => setTransferring(false)} />}
      {mailing && <TranscriptForm store={store} convId={convId} onDone={() => setMailing(false)} />}
      {/* A log: new messages are read out politely. Live only once the history is in, so
          opening a chat does not read its whole past. */}
      <div
        class="messages"
        role="log"
        aria-label={t("pane.messages")}
        aria-live={live ? "polite" : "off"}
        aria-relevant="additions"
        aria-busy={loadingOlder}
        ref={listRef}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {store.hasOlder.get(convId) && (
          <button
            class="older"
            onClick={() => {
              setLoadingOlder(true);
              void store.loadOlder(convId).finally(() => setLoadingOlder(false));
            }}
          >
            {t("pane.older")}
          </button>
        )}
        <ol class="msg-list">
          {msgs.map((m) => (
            <Bubble key={m.seq} m={m} seen={m.seq === seenSeq} who={name} delivery={store.deliveries.of(convId, m.seq)} mailFiles={mailFiles.get(m.seq)} />
          ))}
          {pending.map((p) => (
            <PendingBubble key={p.client_msg_id} p={p} store={store} />
          ))}
        </ol>
      </div>
      <div class="typing-line" aria-live="polite">
        {typing ? t("pane.typing", { name: isolate(typing.name) }) : ""}
      </div>
      {readOnlyFor(conv, store.me) ? (
        <p class="read-only" role="note" data-read-only="true">
          {t("pane.readOnly")}
        </p>
      ) : (
        <Composer store={store} convId={convId} />
      )}
    </section>
  );
}
