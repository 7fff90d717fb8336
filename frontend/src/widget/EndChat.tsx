// The visitor ends the chat: "End chat" in the panel's header, then a confirmation below it
// (Escape or "Cancel" keeps the chat). The end itself is the server's (ending.ts).
import { useEffect, useRef } from "preact/hooks";
import type { Chat } from "./chat";
import type { Strings } from "./i18n";

/** Can the shown chat be ended by the visitor now? */
export function canEnd(chat: Chat): boolean {
  const s = chat.state;
  return s.conversationId !== null && !s.ended && !s.byEmail && !chat.ending.asked && s.ready;
}

export function EndChatButton({ t, onAsk }: { t: Strings; onAsk: () => void }) {
  return (
    <button type="button" class="endbtn" data-action="end-chat" aria-haspopup="dialog" onClick={onAsk}>
      {t.endChat}
    </button>
  );
}

export function EndChatConfirm({ chat, t, onDone }: { chat: Chat; t: Strings; onDone: (ended: boolean) => void }) {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => cancel.current?.focus(), []);
  return (
    <div
      class="endask"
      role="alertdialog"
      aria-labelledby="tw-endask"
      onKeyDown={(ev) => {
        if (ev.key !== "Escape") return;
        ev.preventDefault();
        ev.stopPropagation(); // the panel would close on it
        onDone(false);
      }}
    >
      <p id="tw-endask">{t.endChatAsk}</p>
      <div class="obtn">
        <button ref={cancel} type="button" onClick={() => onDone(false)}>
          {t.endChatNo}
        </button>
        <button
          type="button"
          class="primary"
          data-action="end-chat-confirm"
          onClick={() => {
            chat.ending.end();
            onDone(true);
          }}
        >
          {t.endChatYes}
        </button>
      </div>
    </div>
  );
}
