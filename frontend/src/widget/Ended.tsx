// The end of a chat in the panel: the notice, the rating, the transcript (download or by
// email), a new chat (docs/lifecycle.md).
import { useState } from "preact/hooks";
import type { Chat } from "./chat";
import type { Strings } from "./i18n";

/** The end of a chat: the notice, a rating with a comment, the transcript, a new chat. */
interface EndedProps {
  chat: Chat;
  t: Strings;
  /** Who ended it: "visitor" (this visitor, in the widget), "agent" or "timer". */
  by: string;
  scale: "stars" | "thumbs";
  rated: boolean;
}

export function Ended({ chat, t, by, scale, rated }: EndedProps) {
  const [score, setScore] = useState(0);
  const [comment, setComment] = useState("");
  const send = (ev: Event) => {
    ev.preventDefault();
    if (score) chat.ending.rate(score, comment.trim());
  };
  const download = () => {
    const blob = new Blob([chat.ending.transcript({ you: t.you, agent: t.agent })], { type: "text/plain" });
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
        <strong>{by === "visitor" ? t.youEnded : t.chatEnded}</strong>
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

/** "Email me the transcript": an address field (prefilled with the address the product knows
 * for this visitor, editable), then where it goes (or why not). */
function MailTranscript({ chat, t }: { chat: Chat; t: Strings }) {
  const [open, setOpen] = useState(false);
  const [email, setEmail] = useState("");
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const openForm = () => {
    setOpen(true);
    void chat.ending.knownAddress().then((known) => known && setEmail((typed) => typed || known));
  };
  if (sentTo) return <p role="status" class="mailed">{t.mailTranscriptSent(sentTo)}</p>;
  if (!open)
    return (
      <div class="obtn">
        <button type="button" onClick={openForm}>
          {t.mailTranscript}
        </button>
      </div>
    );
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!email.trim() || busy) return;
    setBusy(true);
    const r = await chat.ending.mailTranscript(email);
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
