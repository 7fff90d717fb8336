// Co-browsing in the loader: tiny on purpose. The rrweb recorder is a separate bundle, added with
// a <script> tag only once the visitor agreed (or, after a navigation, once the server confirmed
// the session is still on). Messages pass between the frame and the recorder unchanged.
type Data = { op: string; session?: number };
type Post = (data: Data) => void;

const KEY = "tresen:cb";

export function cobrowse(base: string, post: Post) {
  const w = window as unknown as { __tresenCb?: unknown };
  let recv: ((d: Data) => void) | null = null;
  const queue: Data[] = [];
  const stored = (v?: string | null): string | null => {
    try {
      if (v === undefined) return sessionStorage.getItem(KEY);
      if (v === null) sessionStorage.removeItem(KEY);
      else sessionStorage.setItem(KEY, v);
    } catch {
      /* no storage: the session ends with this page */
    }
    return null;
  };
  function load(): void {
    if (w.__tresenCb) return;
    w.__tresenCb = {
      post,
      ready(fn: (d: Data) => void) {
        recv = fn;
        queue.splice(0).forEach(fn);
      },
    };
    const s = document.createElement("script");
    s.src = base + "/static/build/" + __RECORDER__;
    s.async = true;
    document.head.appendChild(s);
  }
  return {
    /** The frame is ready: resume a session this tab was sharing before the navigation. */
    ready(): void {
      const sid = Number(stored());
      if (sid) post({ op: "resume", session: sid });
    },
    fromFrame(d: Data): void {
      if (d.op === "start") {
        stored(String(d.session));
        load();
      } else if (d.op === "stop") stored(null);
      if (recv) recv(d);
      else if (d.op !== "stop") queue.push(d);
    },
    code: () => post({ op: "code" }),
  };
}
