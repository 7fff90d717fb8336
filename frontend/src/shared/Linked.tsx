// User text on screen, in the widget and the console alike: text nodes, and <a> for http(s)
// URLs (shared/linkify.ts). Never HTML: nothing here sets innerHTML.
import { linkify } from "./linkify";

/** Links open in a new tab, without opener or referrer, and pass no ranking (nofollow). */
export function Linked({ text }: { text: string }) {
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
