// Answer suggestions under the reply box: from the knowledge base, canned responses and past
// answers. Fetched when a visitor message arrives and (debounced) while the agent types.
// Alt+Shift+1…3 inserts one into the reply box; each is also a button (Tab, then Enter).
import { useEffect, useState } from "preact/hooks";
import { api } from "./api";
import { t } from "./i18n";
import type { Store } from "./store";

export interface Suggestion {
  source: "kb" | "canned" | "answer";
  id: number;
  title: string;
  text: string;
  score: number;
}

const SOURCE_KEY = { kb: "sugg.kb", canned: "sugg.canned", answer: "sugg.answer" } as const;

export function sourceLabel(source: Suggestion["source"]): string {
  return t(SOURCE_KEY[source]);
}

function lastVisitorSeq(store: Store, convId: number): number {
  let last = 0;
  for (const m of store.messages.get(convId)?.values() ?? []) {
    if (m.author.kind === "visitor" && m.seq > last) last = m.seq;
  }
  return last;
}

export function useSuggestions(store: Store, convId: number, draft: string): Suggestion[] {
  const [items, setItems] = useState<Suggestion[]>([]);
  const visitorSeq = lastVisitorSeq(store, convId);
  const query = draft.startsWith("/") ? "" : draft.trim();
  useEffect(() => {
    let stale = false;
    const timer = window.setTimeout(
      () => {
        const params = new URLSearchParams({ conversation_id: String(convId) });
        if (query) params.set("q", query);
        api<Suggestion[]>("GET", `/api/assist/suggest?${params}`).then(
          (r) => !stale && setItems(r),
          () => !stale && setItems([]),
        );
      },
      query ? 250 : 0,
    );
    return () => {
      stale = true;
      window.clearTimeout(timer);
    };
  }, [convId, visitorSeq, query]);
  return items;
}

export function recordPick(convId: number, s: { source: string; id: number }): void {
  void api("POST", "/api/assist/picks", {
    conversation_id: convId,
    source: s.source,
    item_id: s.id,
  }).catch(() => undefined);
}

export function SuggestionList({
  items,
  onPick,
}: {
  items: Suggestion[];
  onPick: (s: Suggestion) => void;
}) {
  if (!items.length) return null;
  return (
    <section class="suggestions" aria-label={t("sugg.label")}>
      <h3 class="suggestions-title">{t("sugg.title", { n: items.length })}</h3>
      <ol>
        {items.map((s, i) => (
          <li key={`${s.source}-${s.id}`} data-source={s.source}>
            <button
              type="button"
              class="suggestion"
              aria-keyshortcuts={`Alt+Shift+${i + 1}`}
              onClick={() => onPick(s)}
            >
              <kbd>{i + 1}</kbd>
              <span class="suggestion-source">{sourceLabel(s.source)}</span>
              <span class="suggestion-title" dir="auto">
                {s.title}
              </span>
              <span class="suggestion-text" dir="auto">
                {s.text}
              </span>
            </button>
          </li>
        ))}
      </ol>
    </section>
  );
}
