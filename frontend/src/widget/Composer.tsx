// What the visitor writes: the message (Enter sends, Shift+Enter a new line), a topic for a new
// chat, an address when nobody is online, files where the site allows them.
import { useRef, useState } from "preact/hooks";
import type { Attachment } from "../shared/protocol";
import type { Chat } from "./chat";
import type { Strings } from "./i18n";
import { SendIcon } from "./icons";

interface ComposerProps {
  chat: Chat;
  t: Strings;
  maxChars: number;
  inputRef: { current: HTMLTextAreaElement | null };
  topics: string[];
  /** Nobody is online (and no agent has written): a message is left for email. */
  offline: boolean;
}

export function Composer({ chat, t, maxChars, inputRef, topics, offline }: ComposerProps) {
  const s = chat.state;
  const [topic, setTopic] = useState(chat.topic || "");
  const [text, setText] = useState("");
  const [email, setEmail] = useState("");
  const askEmail = offline && s.conversationId === null;
  const tooLong = text.length > maxChars;
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
    if (askEmail && email.trim()) chat.waiting.offlineEmail = email.trim();
    chat.send(text.slice(0, maxChars), files);
    setFiles([]);
    setText("");
    inputRef.current?.focus();
  };

  return (
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
  );
}
