// The chat UI's root: the launcher (with its unread badge), an invitation beside it, or the open
// panel (Panel.tsx); what is announced to screen readers while the panel is closed.
import { isolate } from "../shared/bidi";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Chat } from "./chat";
import type { InviteSize } from "../shared/bridge";
import type { Strings } from "./i18n";
import { ChatIcon } from "./icons";
import { InviteBubble, InviteChip } from "./Invite";
import { Panel } from "./Panel";
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
    chat.offers.onNote = (m) => {
      if (!openRef.current) setAnnounce(t.newMessage(isolate(m.author.name || t.title)));
    };
    // An invitation never opens the panel, unless the rule asks for it and this is no phone.
    chat.offers.onInvite = (inv) => {
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
    chat.offers.answer(true);
    change(true, true);
  };
  const dismiss = () => {
    chat.offers.answer(false);
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
