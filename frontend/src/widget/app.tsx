import { useEffect, useRef, useState } from "preact/hooks";
import type { Chat, ChatMessage } from "./chat";
import type { Strings } from "./i18n";
import { linkify } from "../shared/linkify";
import { beep, unlockSound } from "./sound";

export interface AppProps {
  chat: Chat;
  t: Strings;
  maxChars: number;
  initiallyOpen: boolean;
  onState: (open: boolean, unread: number) => void;
  bindOpen: (fn: (open: boolean, focus: boolean) => void) => void;
  narrow: () => boolean;
}

export function App({ chat, t, maxChars, initiallyOpen, onState, bindOpen, narrow }: AppProps) {
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
        setAnnounce(t.newMessage(m.author.name || t.agent));
      }
    };
    bindOpen(change);
  }, []);

  useEffect(() => {
    chat.setVisible(open);
    onState(open, chat.state.unread);
    if (open) void chat.refreshStatus();
    const el = focusNext.current === "input" ? inputRef.current : focusNext.current === "launcher" ? launcherRef.current : null;
    focusNext.current = null;
    el?.focus();
    if (!open) return;
    const timer = window.setInterval(() => void chat.refreshStatus(), 30000);
    return () => clearInterval(timer);
  }, [open]);

  const s = chat.state;
  useEffect(() => onState(openRef.current, s.unread), [s.unread]);

  const cls = `tw ${open ? "is-open" : "is-closed"}${narrow() ? " narrow" : ""}`;
  return (
    <div class={cls}>
      <div class="sr-only" aria-live="polite" role="status">
        {open ? "" : announce}
      </div>
      {open ? (
        <Panel chat={chat} t={t} maxChars={maxChars} inputRef={inputRef} onClose={() => change(false, true)} />
      ) : (
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
          {s.unread > 0 && (
            <span class="badge" aria-hidden="true">
              {s.unread > 9 ? "9+" : s.unread}
            </span>
          )}
        </button>
      )}
    </div>
  );
}

interface PanelProps {
  chat: Chat;
  t: Strings;
  maxChars: number;
  inputRef: { current: HTMLTextAreaElement | null };
  onClose: () => void;
}

function Panel({ chat, t, maxChars, inputRef, onClose }: PanelProps) {
  const s = chat.state;
  const [text, setText] = useState("");
  const [email, setEmail] = useState("");
  const logRef = useRef<HTMLDivElement>(null);
  const offline = s.agentsOnline === false && !s.messages.some((m) => m.author.kind === "agent");
  const tooLong = text.length > maxChars;

  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [s.messages.length, s.agentTyping]);

  const submit = (ev?: Event) => {
    ev?.preventDefault();
    if (!text.trim() || tooLong) return;
    const extra = offline && email.trim() ? `\n\n${t.replyTo}: ${email.trim()}` : "";
    chat.send((text + extra).slice(0, maxChars));
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
      aria-modal="false"
      aria-labelledby="tw-title"
      onKeyDown={(ev) => {
        if (ev.key === "Escape") {
          ev.preventDefault();
          onClose();
        }
      }}
    >
      <header class="head">
        <span class="avatar big" aria-hidden="true">
          {initial(name)}
        </span>
        <div class="titles">
          <h1 id="tw-title">{name || t.title}</h1>
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
        {s.messages.map((m) => (
          <Bubble key={m.key} m={m} t={t} read={m.key === lastRead} />
        ))}
      </div>
      <div class="typing" aria-live="polite">
        {s.agentTyping !== null ? (
          <span>
            <span class="dots" aria-hidden="true">
              <i />
              <i />
              <i />
            </span>
            {t.typing(s.agentTyping || name || t.someone)}
          </span>
        ) : null}
      </div>
      <form class="composer" onSubmit={submit}>
        {offline && (
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
          <button type="submit" class="send" aria-label={t.send} disabled={!text.trim() || tooLong}>
            <SendIcon />
          </button>
        </div>
        {tooLong && (
          <p id="tw-too-long" class="error" role="alert">
            {t.tooLong(maxChars)}
          </p>
        )}
      </form>
    </section>
  );
}

function Bubble({ m, t, read }: { m: ChatMessage; t: Strings; read: boolean }) {
  const mine = m.author.kind === "visitor";
  const who = mine ? t.you : m.author.name || t.agent;
  const meta = m.pending ? t.sending : m.failed ? t.failed : read ? t.read : "";
  return (
    <div class={`msg ${mine ? "mine" : "theirs"}${m.failed ? " failed" : ""}`} data-seq={m.seq ?? undefined}>
      {!mine && (
        <span class="avatar" aria-hidden="true">
          {initial(m.author.name)}
        </span>
      )}
      <div class="stack">
        <span class="sr-only">{who}: </span>
        <p class="body" dir="auto" title={m.createdAt ? new Date(m.createdAt).toLocaleString() : undefined}>
          <Linked text={m.body} />
        </p>
        {meta && <span class="meta">{meta}</span>}
      </div>
    </div>
  );
}

/** Text as text nodes; only http(s) URLs become links, opening in a new tab without opener. */
function Linked({ text }: { text: string }) {
  return (
    <>
      {linkify(text).map((p, i) =>
        p.kind === "link" ? (
          <a key={i} href={p.href} target="_blank" rel="noopener noreferrer nofollow">
            {p.text}
          </a>
        ) : (
          p.text
        ),
      )}
    </>
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
  const ch = Array.from((name || "").trim())[0];
  return ch ? ch.toUpperCase() : "?";
}

const ChatIcon = () => (
  <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">
    <path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z" />
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
