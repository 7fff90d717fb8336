// The open chat: the header (who has it, connection, "End chat"), the log (messages, notes, invitation,
// queue place, other ways, the end), "is typing", and the composer (Composer.tsx).
import { useEffect, useRef, useState } from "preact/hooks";
import { isolate } from "../shared/bidi";
import type { Chat } from "./chat";
import { Composer } from "./Composer";
import { Ended } from "./Ended";
import { EndChatButton, EndChatConfirm, canEnd } from "./EndChat";
import { HelpSearch } from "./HelpSearch";
import type { Strings } from "./i18n";
import { CloseIcon, initial } from "./icons";
import { InviteBubble } from "./Invite";
import { Bubble, lastReadVisitorKey, timeline } from "./Messages";
import { Overflow } from "./Overflow";

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

export function Panel({ chat, t, maxChars, inputRef, onClose, onAccept, topics, trap = false }: PanelProps) {
  const s = chat.state;
  const logRef = useRef<HTMLDivElement>(null);
  const [asking, setAsking] = useState(false);
  const endable = canEnd(chat);
  const offline = s.agentsOnline === false && !s.messages.some((m) => m.author.kind === "agent");
  const items = timeline(s, t);

  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [items.length, s.agentTyping, Boolean(s.queue), Boolean(s.overflow)]);

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
        {endable && <EndChatButton t={t} onAsk={() => setAsking(true)} />}
        <button type="button" class="close" aria-label={t.closeChat} onClick={onClose}>
          <CloseIcon />
        </button>
      </header>
      {asking && endable && (
        <EndChatConfirm
          chat={chat}
          t={t}
          onDone={(ended) => {
            setAsking(false);
            if (ended) logRef.current?.focus();
          }}
        />
      )}
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
            <InviteBubble inv={s.invite} t={t} onAccept={onAccept} onDismiss={() => chat.offers.answer(false)} />
          </div>
        )}
        {s.queue && (s.overflow === null || s.overflow.reason === "long_wait") && (
          <p class="queue" role="status">
            {t.queuePosition(s.queue.position, s.queue.wait)}
          </p>
        )}
        {s.overflow && <Overflow chat={chat} t={t} o={s.overflow} />}
        {s.ended && <Ended chat={chat} t={t} by={s.ended.by} scale={s.ended.scale} rated={s.rated} />}
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
            <button type="button" onClick={() => chat.waiting.handover()}>
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
      <Composer chat={chat} t={t} maxChars={maxChars} inputRef={inputRef} topics={topics} offline={offline} />
    </section>
  );
}
