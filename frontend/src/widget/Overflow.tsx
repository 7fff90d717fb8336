// A waiting visitor's other ways when the wait is long or nobody is online (docs/routing.md).
import { useState } from "preact/hooks";
import type { Chat } from "./chat";
import type { OverflowInfo } from "./chatState";
import type { Strings } from "./i18n";

/** The waiting visitor's other ways: keep waiting, leave a message, a callback, the bot. */
export function Overflow({ chat, t, o }: { chat: Chat; t: Strings; o: OverflowInfo }) {
  const [mode, setMode] = useState<"pick" | "message" | "callback">(chat.waiting.badPhone !== null ? "callback" : "pick");
  const [email, setEmail] = useState("");
  const [note, setNote] = useState("");
  const [phone, setPhone] = useState(chat.waiting.badPhone ?? "");
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
    else chat.waiting.choose(opt as "wait" | "bot" | "leave");
  };
  const sendMessage = (ev: Event) => {
    ev.preventDefault();
    if (!email.trim()) return;
    if (note.trim()) chat.send(note.trim());
    chat.waiting.choose("message", { email });
  };
  const sendCallback = (ev: Event) => {
    ev.preventDefault();
    if (phone.trim()) chat.waiting.choose("callback", { phone, when });
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
              aria-invalid={chat.waiting.badPhone !== null ? "true" : undefined} aria-describedby={chat.waiting.badPhone !== null ? "tw-bad-phone" : undefined}
              onInput={(e) => setPhone(e.currentTarget.value)} />
          </label>
          {chat.waiting.badPhone !== null && <p id="tw-bad-phone" class="oerr" role="alert">{t.badPhone}</p>}
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
