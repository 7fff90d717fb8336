// The inbox's views (mine, unassigned, all, by channel, by team, by tag, snoozed, resolved), their
// counts from the server, the resolved history page by page, message search and the selection
// for bulk actions. Live views are filtered from the store's conversations (kept current by the
// socket); counts are fetched again shortly after anything that may change them.
import { api } from "./api";
import type { Conv } from "./types";
import { errorText } from "./errors";
import { t } from "./i18n";

export interface ViewCounts {
  mine: number;
  unassigned: number;
  all: number;
  snoozed: number;
  resolved: number;
  channels: Record<string, number>;
  teams: TeamCount[];
  tags: Record<string, number>;
}

/** A team's view: the awake conversations assigned to one of its members. */
export interface TeamCount {
  id: number;
  name: string;
  member_ids: number[];
  count: number;
}

export interface SearchHit {
  conversation_id: number;
  message_id: number;
  seq: number;
  author_kind: string;
  internal: boolean;
  created_at: string;
  visitor_name: string | null;
  status: string;
  snippet: string;
  highlights: [number, number][];
}

const COUNTS_DELAY_MS = 300;

export class InboxViews {
  view = "all";
  counts: ViewCounts | null = null;
  resolved: Conv[] = [];
  resolvedCursor: string | null = null;
  query = "";
  hits: SearchHit[] | null = null;
  searchError = "";
  selected = new Set<number>();
  private timer = 0;

  constructor(private changed: () => void, private me: () => number) {}

  /** Something that may move a count happened: fetch them again (once for a burst). */
  stale(): void {
    if (this.timer) return;
    this.timer = window.setTimeout(() => {
      this.timer = 0;
      void this.refreshCounts();
      if (this.view === "resolved") void this.loadResolved(false);
    }, COUNTS_DELAY_MS);
  }

  async refreshCounts(): Promise<void> {
    try {
      this.counts = await api<ViewCounts>("GET", "/api/console/views");
      this.changed();
    } catch {
      /* counts are a nicety; the next change tries again */
    }
  }

  setView(view: string): void {
    this.view = view;
    this.selected.clear();
    if (view === "resolved") void this.loadResolved(false);
    this.changed();
  }

  /** The live views, from the conversations the console has (not resolved). */
  filter(convs: Conv[]): Conv[] {
    const awake = (c: Conv) => !c.snoozed_until;
    const [kind, value] = this.view.includes(":") ? this.view.split(/:(.*)/s) : [this.view, ""];
    switch (kind) {
      case "mine":
        return convs.filter((c) => awake(c) && c.assignee_id === this.me());
      case "unassigned":
        return convs.filter((c) => awake(c) && c.assignee_id == null);
      case "snoozed":
        return convs.filter((c) => !awake(c));
      case "channel":
        return convs.filter((c) => awake(c) && c.channel === value);
      case "team": {
        const members = new Set(this.team(Number(value))?.member_ids ?? []);
        return convs.filter((c) => awake(c) && c.assignee_id != null && members.has(c.assignee_id));
      }
      case "tag":
        return convs.filter((c) => awake(c) && (c.tags ?? []).includes(value));
      default:
        return convs.filter(awake);
    }
  }

  team(id: number): TeamCount | undefined {
    return (this.counts?.teams ?? []).find((x) => x.id === id);
  }

  async loadResolved(more: boolean): Promise<void> {
    const cursor = more && this.resolvedCursor ? `&cursor=${encodeURIComponent(this.resolvedCursor)}` : "";
    const page = await api<{ items: Conv[]; next_cursor: string | null }>(
      "GET",
      `/api/console/views/resolved?limit=30${cursor}`,
    );
    this.resolved = more ? [...this.resolved, ...page.items] : page.items;
    this.resolvedCursor = page.next_cursor;
    this.changed();
  }

  async search(query: string): Promise<void> {
    this.query = query;
    if (!query.trim()) return this.clearSearch();
    try {
      const r = await api<{ results: SearchHit[] }>("GET", `/api/console/search?q=${encodeURIComponent(query)}`);
      this.hits = r.results;
      this.searchError = "";
    } catch (e: any) {
      this.hits = [];
      this.searchError = errorText(e);
    }
    this.changed();
  }

  clearSearch(): void {
    this.query = "";
    this.hits = null;
    this.searchError = "";
    this.changed();
  }

  toggle(id: number): void {
    if (this.selected.has(id)) this.selected.delete(id);
    else this.selected.add(id);
    this.changed();
  }

  /** One action on the selection; returns how many changed and the first error. */
  async bulk(action: string, extra: Record<string, unknown> = {}): Promise<string> {
    const ids = [...this.selected];
    const r = await api<{ results: { ok: boolean; code?: string; message?: string }[]; changed: number }>(
      "POST",
      "/api/conversations/bulk",
      { ids, action, ...extra },
    );
    this.selected.clear();
    this.stale();
    const failed = r.results.find((x) => !x.ok);
    return t("inbox.bulkResult", { n: r.changed, of: ids.length }) + (failed ? ` (${errorText(failed)})` : "");
  }
}

/** Split a snippet into text and highlighted runs (rendered as text: never as markup). */
export function highlightRuns(text: string, spans: [number, number][]): { text: string; hit: boolean }[] {
  const runs: { text: string; hit: boolean }[] = [];
  let at = 0;
  for (const [a, b] of [...spans].sort((x, y) => x[0] - y[0])) {
    if (a < at || b > text.length || a >= b) continue;
    if (a > at) runs.push({ text: text.slice(at, a), hit: false });
    runs.push({ text: text.slice(a, b), hit: true });
    at = b;
  }
  if (at < text.length) runs.push({ text: text.slice(at), hit: false });
  return runs;
}

/** Snooze presets, as instants. */
export function snoozeUntil(preset: string, now = new Date()): Date {
  const d = new Date(now);
  if (preset === "1h") return new Date(now.getTime() + 3600_000);
  if (preset === "4h") return new Date(now.getTime() + 4 * 3600_000);
  if (preset === "tomorrow") {
    d.setDate(d.getDate() + 1);
    d.setHours(9, 0, 0, 0);
    return d;
  }
  d.setDate(d.getDate() + 7);
  d.setHours(9, 0, 0, 0);
  return d;
}
