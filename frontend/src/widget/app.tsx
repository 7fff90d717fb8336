import { HelpSearch } from "./HelpSearch";
import { isolate } from "../shared/bidi";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Chat, ChatMessage, ChatState, Invite, OverflowInfo } from "./chat";
import type { InviteSize } from "../shared/bridge";
import type { Strings } from "./i18n";
import type { Attachment } from "../shared/protocol";
import { Linked } from "../shared/Linked";
import { beep, unlockSound } from "./sound";

export interface AppProps {
  chat: Chat;
  t: Strings;
  maxChars: number;
  initiallyOpen: boolean;
  onState: (open: boolean, unread: number, invite?: InviteSize) => void;
  bindOpen: (fn: (open: boolean, focus: boolean) => void) => void;
  narrow: () => boolean;
  topics?: string[];
}

export function App({
  chat,
  t,
  maxChars,
  initiallyOpen,
  onState,
  bindOpen,
  narrow,
  topics = [],
}: AppProps) {
  const [, force] = useState(0);
  const [open, setOpen] = useState(initiallyOpen);
  const [announce, setAnnounce] = useState("");
  const launcherRef = useRef<HTMLButtonElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const focusNext = useRef<"input" | "launcher" | null>(null);
  const openRef = useRef(open);
  openRef.current = open;

  const change = (next: boolean, focus: boolean) => {
    if (next) unlockSound();
    focusNext.current = focus ? (next ? "input" : "launcher") : null;
    setOpen(next);
  };

  useEffect(() => {
    chat.onChange = () => force((n) => n + 1);
    chat.onAgentMessage = (m) => {
      if (!openRef.current) {
        beep();
        setAnnounce(t.newMessage(isolate(m.author.name || t.agent)));
      }
    };
    chat.onNote = (m) => {
      if (!openRef.current) setAnnounce(t.newMessage(isolate(m.author.name || t.title)));
    };
    // An invitation never opens the panel, unless the rule asks for it and this is no phone.
    chat.onInvite = (inv) => {
      if (inv.autoOpen && !inv.quiet && !narrow() && !openRef.current) change(true, false);
      else if (!openRef.current) setAnnounce(`${t.invitation}: ${isolate(inv.text)}`);
    };
    bindOpen(change);
  }, []);

  const s = chat.state;
  const inviteSize: InviteSize | undefined =
    !open && s.invite ? (s.invite.quiet || narrow() ? "chip" : "bubble") : undefined;

  useEffect(() => {
    chat.setVisible(open);
    onState(open, chat.state.unread, inviteSize);
    if (open) void chat.refreshStatus();
    const el = focusNext.current === "input" ? inputRef.current : focusNext.current === "launcher" ? launcherRef.current : null;
    focusNext.current = null;
    el?.focus();
    if (!open) return;
    const timer = window.setInterval(() => void chat.refreshStatus(), 30000);
    return () => clearInterval(timer);
  }, [open]);

  useEffect(() => onState(openRef.current, s.unread, inviteSize), [s.unread, inviteSize]);

  const accept = () => {
    chat.answerInvite(true);
    change(true, true);
  };
  const dismiss = () => {
    chat.answerInvite(false);
    focusNext.current = "launcher";
    window.setTimeout(() => launcherRef.current?.focus());
  };

  const cls = `tw ${open ? "is-open" : "is-closed"}${narrow() ? " narrow" : ""}`;
  return (
    <div class={cls}>
      <div class="sr-only" aria-live="polite" role="status">
        {open ? "" : announce}
      </div>
      {open ? (
        <Panel chat={chat} t={t} maxChars={maxChars} inputRef={inputRef} onClose={() => change(false, true)} onAccept={accept} topics={topics} trap={narrow()} />
      ) : (
        <>
        {s.invite && inviteSize === "bubble" && <InviteBubble inv={s.invite} t={t} onAccept={accept} onDismiss={dismiss} />}
        <div class="dock">
        {s.invite && inviteSize === "chip" && <InviteChip inv={s.invite} t={t} onAccept={accept} onDismiss={dismiss} />}
        <button
          ref={launcherRef}
          type="button"
          class="launcher"
          aria-label={s.unread ? t.openChatUnread(s.unread) : t.openChat}
          aria-expanded="false"
          aria-haspopup="dialog"
          onClick={() => change(true, true)}
        >
          <ChatIcon />
          {s.unread > 0 ? (
            <span class="badge" aria-hidden="true">
              {s.unread > 9 ? "9+" : s.unread}
            </span>
          ) : s.invite ? (
            <span class="dot" aria-hidden="true" />
          ) : null}
        </button>
        </div>
        </>
      )}
    </div>
  );
}

interface InviteProps {
  inv: Invite;
  t: Strings;
  onAccept: () => void;
  onDismiss: () => void;
}

/** The gentle invitation beside the launcher: who, what, "Chat now" and a way to say no. */
function InviteBubble({ inv, t, onAccept, onDismiss }: InviteProps) {
  return (
    <section class="invite" role="region" aria-label={t.invitation}>
      <button type="button" class="x" aria-label={t.noThanks} title={t.noThanks} onClick={onDismiss}>
        <CloseIcon />
      </button>
      <div class="who">
        {inv.agentPhoto && inv.agentPhoto.startsWith("/api/agents/") ? (
          <img class="avatar" src={inv.agentPhoto} alt="" />
        ) : (
          <span class="avatar" aria-hidden="true">
            {initial(inv.agentName || t.title)}
          </span>
        )}
        <strong>
          <bdi>{inv.agentName || t.title}</bdi>
        </strong>
      </div>
      <p class="itext" dir="auto">
        {inv.text}
      </p>
      <button type="button" class="accept" onClick={onAccept}>
        {t.chatNow}
      </button>
    </section>
  );
}

/** On phones: one line beside the launcher, nothing over the page's content. */
function InviteChip({ inv, t, onAccept, onDismiss }: InviteProps) {
  return (
    <div class="chip" role="region" aria-label={t.invitation}>
      <button type="button" class="ctext" dir="auto" onClick={onAccept} title={inv.text}>
        {inv.text}
      </button>
      <button type="button" class="cx" aria-label={t.noThanks} onClick={onDismiss}>
        <CloseIcon />
      </button>
    </div>
  );
}

interface PanelProps {
  chat: Chat;
  t: Strings;
  maxChars: number;
  inputRef: { current: HTMLTextAreaElement | null };
  onClose: () => void;
  onAccept: () => void;
  topics: string[];
  /** Full screen (a phone): keep keyboard focus inside the panel. */
  trap?: boolean;
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Wrap Tab / Shift+Tab at the ends of `root` so focus cannot leave it. */
function trapTab(root: HTMLElement, ev: KeyboardEvent): void {
  const items = Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => el.offsetParent !== null || el === document.activeElement);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  const at = document.activeElement;
  if (ev.shiftKey && (at === first || !root.contains(at))) {
    ev.preventDefault();
    last.focus();
  } else if (!ev.shiftKey && (at === last || !root.contains(at))) {
    ev.preventDefault();
    first.focus();
  }
}

function Panel({ chat, t, maxChars, inputRef, onClose, onAccept, topics, trap = false }: PanelProps) {
  const s = chat.state;
  const [topic, setTopic] = useState(chat.topic || "");
  const [text, setText] = useState("");
  const [email, setEmail] = useState("");
  const logRef = useRef<HTMLDivElement>(null);
  const offline = s.agentsOnline === false && !s.messages.some((m) => m.author.kind === "agent");
  const askEmail = offline && s.conversationId === null;
  const tooLong = text.length > maxChars;
  const items = timeline(s, t);

  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [items.length, s.agentTyping, Boolean(s.queue), Boolean(s.overflow)]);

  const [files, setFiles] = useState<Attachment[]>([]);
  const [uploading, setUploading] = useState(false);
  const [fileError, setFileError] = useState<string | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const canAttach = s.uploads && s.conversationId !== null;
  const attach = async (list: FileList | null) => {
    setFileError(null);
    for (const f of Array.from(list ?? [])) {
      setUploading(true);
      try {
        const a = await chat.uploadFile(f);
        setFiles((now) => [...now, a]);
      } catch (e) {
        setFileError(`${f.name}: ${(e as Error).message}`);
      } finally {
        setUploading(false);
      }
    }
  };

  const submit = (ev?: Event) => {
    ev?.preventDefault();
    if ((!text.trim() && !files.length) || tooLong || uploading) return;
    // Offline: the new chat overflows at once, and the address makes it an email conversation.
    if (askEmail && email.trim()) chat.offlineEmail = email.trim();
    chat.send(text.slice(0, maxChars), files);
    setFiles([]);
    setText("");
    inputRef.current?.focus();
  };

  const lastRead = lastReadVisitorKey(s.messages, s.agentReadSeq);
  const name = s.agentName;
  const status = !s.ready || (!s.connected && !s.everConnected)
    ? t.connecting
    : !s.connected
      ? t.reconnecting
      : offline
        ? t.subtitleOffline
        : t.subtitleOnline;

  return (
    <section
      class="panel"
      role="dialog"
      aria-modal={trap ? "true" : "false"}
      aria-labelledby="tw-title"
      onKeyDown={(ev) => {
        if (ev.key === "Escape") {
          ev.preventDefault();
          onClose();
        } else if (ev.key === "Tab" && trap) {
          // Full screen on a phone the page behind is hidden: Tab wraps inside the panel.
          trapTab(ev.currentTarget as HTMLElement, ev);
        }
      }}
    >
      <header class="head">
        {s.agentAvatar ? (
          <img class="avatar big" src={s.agentAvatar} alt="" />
        ) : (
          <span class="avatar big" aria-hidden="true">
            {initial(name)}
          </span>
        )}
        <div class="titles">
          <h1 id="tw-title">
            <bdi>{name || t.title}</bdi>
          </h1>
          <p class={`status${s.connected ? "" : " warn"}`}>{status}</p>
        </div>
        <button type="button" class="close" aria-label={t.closeChat} onClick={onClose}>
          <CloseIcon />
        </button>
      </header>
      <div class="log" ref={logRef} role="log" aria-live="polite" aria-relevant="additions" aria-label={t.messages} tabIndex={0}>
        {offline ? (
          <p class="note" role="note">
            {t.offlineNote}
          </p>
        ) : (
          <p class="note">{t.welcome}</p>
        )}
        {s.conversationId === null && s.messages.length === 0 && !s.invite && (
          <HelpSearch chat={chat} t={t} />
        )}
        {items.map((m) => (
          <Bubble key={m.key} m={m} t={t} read={m.key === lastRead} chat={chat} />
        ))}
        {s.invite && (
          <div class="incard">
            <InviteBubble inv={s.invite} t={t} onAccept={onAccept} onDismiss={() => chat.answerInvite(false)} />
          </div>
        )}
        {s.queue && (s.overflow === null || s.overflow.reason === "long_wait") && (
          <p class="queue" role="status">
            {t.queuePosition(s.queue.position, s.queue.wait)}
          </p>
        )}
        {s.overflow && <Overflow chat={chat} t={t} o={s.overflow} />}
        {s.ended && <Ended chat={chat} t={t} scale={s.ended.scale} rated={s.rated} />}
        {s.whatsapp && s.conversationId !== null && (
          <div class="whatsapp-handoff">
            {s.waLink ? (
              <>
                <a href={s.waLink.url} target="_blank" rel="noopener noreferrer" data-action="open-whatsapp">
                  {t.openWhatsapp}
                </a>
                <img class="wa-qr" alt={t.scanWhatsapp} src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(s.waLink.qr)}`} />
                <small>{t.scanWhatsapp}</small>
              </>
            ) : (
              <button type="button" data-action="continue-whatsapp" onClick={() => void chat.whatsappLink(t.waPrefill)}>
                {t.continueWhatsapp}
              </button>
            )}
          </div>
        )}
        {s.bot && (
          <p class="handover">
            <button type="button" onClick={() => chat.handover()}>
              {t.talkToPerson}
            </button>
          </p>
        )}
      </div>
      <div class="typing" aria-live="polite">
        {s.agentTyping !== null ? (
          <span>
            <span class="dots" aria-hidden="true">
              <i />
              <i />
              <i />
            </span>
            {t.typing(isolate(s.agentTyping || name || t.someone))}
          </span>
        ) : null}
      </div>
      <form class="composer" onSubmit={submit}>
        {topics.length > 0 && s.conversationId === null && (
          <label class="topic">
            <span>{t.topic}</span>
            <select
              value={topic}
              onChange={(e) => {
                setTopic(e.currentTarget.value);
                chat.topic = e.currentTarget.value || null;
              }}
            >
              <option value="">{t.anyTopic}</option>
              {topics.map((name) => (
                <option value={name}>{name}</option>
              ))}
            </select>
          </label>
        )}
        {askEmail && (
          <label class="email">
            <span>{t.emailLabel}</span>
            <input type="email" autocomplete="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </label>
        )}
        <div class="row">
          <label class="sr-only" for="tw-input">
            {offline ? t.leaveMessage : t.yourMessage}
          </label>
          <textarea
            id="tw-input"
            ref={inputRef}
            rows={1}
            value={text}
            placeholder={offline ? t.leaveMessage : t.placeholder}
            aria-invalid={tooLong ? "true" : undefined}
            aria-describedby={tooLong ? "tw-too-long" : undefined}
            onInput={(e) => {
              setText(e.currentTarget.value);
              chat.typing(e.currentTarget.value.length > 0);
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey && !e.isComposing) submit(e);
            }}
          />
          {canAttach && (
            <>
              <button type="button" class="attach" aria-label={t.attach} title={t.attach} onClick={() => fileRef.current?.click()}>
                +
              </button>
              <input
                ref={fileRef}
                type="file"
                hidden
                accept="image/jpeg,image/png,image/gif,image/webp,application/pdf,text/plain"
                onChange={(e) => {
                  void attach(e.currentTarget.files);
                  e.currentTarget.value = "";
                }}
              />
            </>
          )}
          <button type="submit" class="send" aria-label={t.send} disabled={(!text.trim() && !files.length) || tooLong || uploading}>
            <SendIcon />
          </button>
        </div>
        {(files.length > 0 || uploading) && (
          <ul class="files pending">
            {files.map((a) => (
              <li key={a.key}>
                <bdi>{a.name}</bdi>
              </li>
            ))}
            {uploading && <li>{t.uploading}</li>}
          </ul>
        )}
        {fileError && (
          <p class="error" role="alert">
            {fileError}
          </p>
        )}
        {tooLong && (
          <p id="tw-too-long" class="error" role="alert">
            {t.tooLong(maxChars)}
          </p>
        )}
      </form>
    </section>
  );
}

/** The end of a chat: the notice, a rating with a comment, the transcript, a new chat. */
function Ended({ chat, t, scale, rated }: { chat: Chat; t: Strings; scale: "stars" | "thumbs"; rated: boolean }) {
  const [score, setScore] = useState(0);
  const [comment, setComment] = useState("");
  const send = (ev: Event) => {
    ev.preventDefault();
    if (score) chat.rate(score, comment.trim());
  };
  const download = () => {
    const blob = new Blob([chat.transcript({ you: t.you, agent: t.agent })], { type: "text/plain" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "chat-transcript.txt";
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  const choices = scale === "thumbs" ? [5, 1] : [1, 2, 3, 4, 5];
  const label = (n: number) => (scale === "thumbs" ? (n === 5 ? t.thumbUp : t.thumbDown) : t.rateStars(n));
  const face = (n: number) => (scale === "thumbs" ? (n === 5 ? "\u{1F44D}" : "\u{1F44E}") : n <= score ? "\u2605" : "\u2606");
  return (
    <section class="ended" aria-labelledby="tw-ended">
      <p id="tw-ended" role="status">
        <strong>{t.chatEnded}</strong>
      </p>
      {rated ? (
        <p role="status">{t.rateThanks}</p>
      ) : (
        <form class="rate" onSubmit={send}>
          <fieldset>
            <legend>{t.rateAsk}</legend>
            <div class="stars">
              {choices.map((n) => (
                <button
                  key={n}
                  type="button"
                  class={`star${score === n ? " picked" : ""}`}
                  aria-label={label(n)}
                  aria-pressed={score === n ? "true" : "false"}
                  onClick={() => setScore(n)}
                >
                  {face(n)}
                </button>
              ))}
            </div>
          </fieldset>
          <label>
            <span>{t.rateComment}</span>
            <textarea rows={2} maxLength={2000} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          </label>
          <button type="submit" class="primary" disabled={!score}>
            {t.rateSend}
          </button>
        </form>
      )}
      <MailTranscript chat={chat} t={t} />
      <div class="obtn">
        <button type="button" onClick={download}>
          {t.transcript}
        </button>
        <button type="button" class="primary" onClick={() => chat.newChat()}>
          {t.newChat}
        </button>
      </div>
    </section>
  );
}

/** "Email me the transcript": an address field, then where it goes (or why not). */
function MailTranscript({ chat, t }: { chat: Chat; t: Strings }) {
  const [open, setOpen] = useState(false);
  const [email, setEmail] = useState("");
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  if (sentTo) return <p role="status" class="mailed">{t.mailTranscriptSent(sentTo)}</p>;
  if (!open)
    return (
      <div class="obtn">
        <button type="button" onClick={() => setOpen(true)}>
          {t.mailTranscript}
        </button>
      </div>
    );
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!email.trim() || busy) return;
    setBusy(true);
    const r = await chat.mailTranscript(email);
    setBusy(false);
    setFailed(r.to === null);
    if (r.to) setSentTo(r.to);
  };
  return (
    <form class="ofrm" onSubmit={submit}>
      <label>
        <span>{t.mailTranscriptTo}</span>
        <input type="email" required autocomplete="email" maxLength={320} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      </label>
      {failed && (
        <p class="error" role="alert">
          {t.mailTranscriptFailed}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy || !email.trim()}>
        {t.mailTranscriptSend}
      </button>
    </form>
  );
}

/** The waiting visitor's other ways: keep waiting, leave a message, a callback, the bot. */
function Overflow({ chat, t, o }: { chat: Chat; t: Strings; o: OverflowInfo }) {
  const [mode, setMode] = useState<"pick" | "message" | "callback">(chat.badPhone !== null ? "callback" : "pick");
  const [email, setEmail] = useState("");
  const [note, setNote] = useState("");
  const [phone, setPhone] = useState(chat.badPhone ?? "");
  const [when, setWhen] = useState("");
  const head = o.reason === "nobody_online" ? t.overflowNobody : t.overflowLong(o.wait);
  // Honest: with nobody online, waiting is not the suggested way.
  const primary = o.reason === "nobody_online" ? "message" : "wait";
  const labels: Record<string, string> = {
    wait: t.optWait,
    message: t.optMessage,
    callback: t.optCallback,
    bot: t.optBot,
    leave: t.optLeave,
  };
  const pick = (opt: string) => {
    if (opt === "message" || opt === "callback") setMode(opt);
    else chat.chooseQueue(opt as "wait" | "bot" | "leave");
  };
  const sendMessage = (ev: Event) => {
    ev.preventDefault();
    if (!email.trim()) return;
    if (note.trim()) chat.send(note.trim());
    chat.chooseQueue("message", { email });
  };
  const sendCallback = (ev: Event) => {
    ev.preventDefault();
    if (phone.trim()) chat.chooseQueue("callback", { phone, when });
  };
  return (
    <section class="overflow" role="group" aria-labelledby="tw-of-head">
      <p id="tw-of-head" role="status">
        <strong>{head}</strong> {t.overflowAsk}
      </p>
      {mode === "pick" ? (
        <div class="opts">
          {o.options.filter((x) => labels[x]).map((x) => (
            <button key={x} type="button" class={`opt${x === primary ? " primary" : ""}`} onClick={() => pick(x)}>
              {labels[x]}
            </button>
          ))}
        </div>
      ) : mode === "message" ? (
        <form class="ofrm" onSubmit={sendMessage}>
          <label>
            <span>{t.emailLabel}</span>
            <input type="email" required autocomplete="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </label>
          <label>
            <span>{t.addLabel}</span>
            <textarea rows={2} maxLength={2000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </label>
          <div class="obtn">
            <button type="button" onClick={() => setMode("pick")}>{t.back}</button>
            <button type="submit" class="primary">{t.sendMessage}</button>
          </div>
        </form>
      ) : (
        <form class="ofrm" onSubmit={sendCallback}>
          <label>
            <span>{t.phoneLabel}</span>
            <input type="tel" required autocomplete="tel" maxLength={40} value={phone}
              aria-invalid={chat.badPhone !== null ? "true" : undefined} aria-describedby={chat.badPhone !== null ? "tw-bad-phone" : undefined}
              onInput={(e) => setPhone(e.currentTarget.value)} />
          </label>
          {chat.badPhone !== null && <p id="tw-bad-phone" class="oerr" role="alert">{t.badPhone}</p>}
          <label>
            <span>{t.whenLabel}</span>
            <input maxLength={100} value={when} onInput={(e) => setWhen(e.currentTarget.value)} />
          </label>
          <div class="obtn">
            <button type="button" onClick={() => setMode("pick")}>{t.back}</button>
            <button type="submit" class="primary">{t.requestCallback}</button>
          </div>
        </form>
      )}
    </section>
  );
}

/** Messages with the local notes (message offers, "an agent joined") placed by time. */
function timeline(s: ChatState, t: Strings): ChatMessage[] {
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
    void chat.fileUrl(a.key).then((u) => live && setUrl(u));
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

function Bubble({ m, t, read, chat }: { m: ChatMessage; t: Strings; read: boolean; chat: Chat }) {
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

function lastReadVisitorKey(list: ChatMessage[], readSeq: number): string | null {
  for (let i = list.length - 1; i >= 0; i--) {
    const m = list[i];
    if (m.author.kind === "visitor" && m.seq !== null && m.seq <= readSeq) return m.key;
  }
  return null;
}

function initial(name: string | null | undefined): string {
  // Not a bidi control (a name may start with one): the first letter.
  const ch = Array.from((name || "").replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "").trim())[0];
  return ch ? ch.toUpperCase() : "?";
}

const ChatIcon = ({ size = 28 }: { size?: number }) => (
  <svg viewBox="0 0 24 24" width={size} height={size} aria-hidden="true" focusable="false">
    <path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z" />
  </svg>
);
const BotIcon = () => (
  <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
    <path
      fill="currentColor"
      d="M11 2h2v3h4a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V8a3 3 0 0 1 3-3h4zM9 10.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm6 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"
    />
  </svg>
);
const CloseIcon = () => (
  <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
    <path fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" d="M6 6l12 12M18 6L6 18" />
  </svg>
);
const SendIcon = () => (
  <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
    <path fill="currentColor" d="M3 20.5l18-8.5L3 3.5 3 10l12 2-12 2z" />
  </svg>
);
