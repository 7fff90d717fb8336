// The start view's help search: the visitor searches the site's knowledge base and reads an
// article before writing; "This answered my question" records a deflected chat.
// Article HTML is rendered from Markdown and sanitised by the server (nh3).
import { useEffect, useState } from "preact/hooks";
import type { Chat } from "./chat";
import type { Strings } from "./i18n";

interface Hit {
  id: number;
  title: string;
  excerpt: string;
}
interface Article extends Hit {
  html: string;
  read_id: number;
}

export function HelpSearch({ chat, t }: { chat: Chat; t: Strings }) {
  const [q, setQ] = useState("");
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [article, setArticle] = useState<Article | null>(null);
  const [answered, setAnswered] = useState(false);
  const language = document.documentElement.lang || "en";

  useEffect(() => {
    const query = q.trim();
    if (query.length < 3) {
      setHits(null);
      return;
    }
    let stale = false;
    const timer = window.setTimeout(async () => {
      const r = await chat.kb<Hit[]>("", { q: query, language });
      if (!stale) setHits(r ?? []);
    }, 250);
    return () => {
      stale = true;
      window.clearTimeout(timer);
    };
  }, [q]);

  async function read(h: Hit) {
    const a = await chat.kb<Article>(`/${h.id}/read`, {}, "POST");
    if (a) {
      setArticle(a);
      setAnswered(false);
    }
  }

  async function helped() {
    if (!article) return;
    const r = await chat.kb(`/reads/${article.read_id}/answered`, {}, "POST");
    if (r) setAnswered(true);
  }

  if (article) {
    return (
      <article class="kb-article" aria-labelledby="tw-kb-title">
        <button type="button" class="kb-back" onClick={() => setArticle(null)}>
          ← {t.kbBack}
        </button>
        <h2 id="tw-kb-title" dir="auto">
          {article.title}
        </h2>
        <div class="kb-html" dir="auto" dangerouslySetInnerHTML={{ __html: article.html }} />
        {answered ? (
          <p class="kb-thanks" role="status">
            {t.kbThanks}
          </p>
        ) : (
          <button type="button" class="kb-answered" onClick={() => void helped()}>
            {t.kbAnswered}
          </button>
        )}
      </article>
    );
  }
  return (
    <div class="kb-search" role="search">
      <label class="sr-only" for="tw-kb-q">
        {t.kbSearch}
      </label>
      <input
        id="tw-kb-q"
        type="search"
        placeholder={t.kbSearch}
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
      />
      {hits !== null && (
        <ul class="kb-hits" aria-label={t.kbArticles}>
          {hits.length === 0 && <li class="kb-none">{t.kbNone}</li>}
          {hits.map((h) => (
            <li key={h.id}>
              <button type="button" class="kb-hit" onClick={() => void read(h)}>
                <strong dir="auto">{h.title}</strong>
                <span dir="auto">{h.excerpt}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
