// The log's entries: messages and local notes in time order, a message bubble (with its files),
// and the "Read" mark under the visitor's last message the agent has read.
import { useEffect, useState } from "preact/hooks";
import { Linked } from "../shared/Linked";
import type { Attachment } from "../shared/protocol";
import type { Chat } from "./chat";
import type { ChatMessage, ChatState } from "./chatState";
import type { Strings } from "./i18n";
import { BotIcon, initial } from "./icons";

/** Messages with the local notes (message offers, "an agent joined") placed by time. */
export function timeline(s: ChatState, t: Strings): ChatMessage[] {
  const extra = [...s.notes];
  if (s.joinedAt)
    extra.push({
      key: "joined",
      seq: null,
      author: { kind: "system" },
      body: t.agentJoined,
      createdAt: s.joinedAt,
      clientMsgId: null,
      pending: false,
      failed: false,
    });
  if (!extra.length) return s.messages;
  const when = (m: ChatMessage) => (m.createdAt ? Date.parse(m.createdAt) : Infinity);
  const out = [...s.messages];
  for (const n of extra.sort((a, b) => when(a) - when(b))) {
    const at = out.findIndex((m) => when(m) > when(n));
    out.splice(at < 0 ? out.length : at, 0, n);
  }
  return out;
}

/** A file on a message: fetched with the visitor token into a blob: URL (no shareable link),
 * images previewed, every file downloadable under its name. */
function FileItem({ a, chat, t, sent }: { a: Attachment; chat: Chat; t: Strings; sent: boolean }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    // A file is served to the visitor once its message is stored: asking before (the local echo
    // of one's own message) would be refused, and the link would never come.
    if (!sent) return;
    let live = true;
    void chat.api.fileUrl(a.key).then((u) => live && setUrl(u));
    return () => {
      live = false;
    };
  }, [a.key, sent]);
  const image = a.type.startsWith("image/");
  return (
    <li class="file" data-type={a.type}>
      {image && url && <img src={url} alt={a.name} />}
      {url ? (
        <a href={url} download={a.name} aria-label={t.download(a.name)}>
          <bdi>{a.name}</bdi>
        </a>
      ) : (
        <bdi>{a.name}</bdi>
      )}
    </li>
  );
}

export function Bubble({ m, t, read, chat }: { m: ChatMessage; t: Strings; read: boolean; chat: Chat }) {
  if (m.author.kind === "system")
    return (
      <div class="msg system" data-seq={m.seq ?? undefined}>
        <p class="body" dir="auto">
          <Linked text={m.body} />
        </p>
      </div>
    );
  const mine = m.author.kind === "visitor";
  const bot = m.author.kind === "bot";
  const who = mine ? t.you : m.author.name || (bot ? t.bot : t.agent);
  const meta = m.pending ? t.sending : m.failed ? t.failed : read ? t.read : "";
  return (
    <div class={`msg ${mine ? "mine" : "theirs"}${bot ? " bot" : ""}${m.failed ? " failed" : ""}`} data-seq={m.seq ?? undefined}>
      {!mine && (
        <span class="avatar" aria-hidden="true">
          {bot ? <BotIcon /> : initial(m.author.name)}
        </span>
      )}
      <div class="stack">
        {bot ? <bdi class="by">{who}</bdi> : <span class="sr-only"><bdi>{who}</bdi>: </span>}
        {m.body && (
          <p class="body" dir="auto" title={m.createdAt ? new Date(m.createdAt).toLocaleString() : undefined}>
            <Linked text={m.body} />
          </p>
        )}
        {m.attachments?.length ? (
          <ul class="files">
            {m.attachments.map((a) => (
              <FileItem key={a.key} a={a} chat={chat} t={t} sent={m.seq !== null} />
            ))}
          </ul>
        ) : null}
        {meta && <span class="meta">{meta}</span>}
      </div>
    </div>
  );
}

export function lastReadVisitorKey(list: ChatMessage[], readSeq: number): string | null {
  for (let i = list.length - 1; i >= 0; i--) {
    const m = list[i];
    if (m.author.kind === "visitor" && m.seq !== null && m.seq <= readSeq) return m.key;
  }
  return null;
}
