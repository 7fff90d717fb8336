// Callbacks: visitors who asked to be called back, as work items (docs/inbox.md). The list is
// fetched per tab (mine, unassigned, due, done) and again when a `callback` frame says one
// changed; a due reminder is announced (notice, sound, desktop notification).
import { api } from "./api";
import { t } from "./i18n";
import { beep, desktopNotify } from "./notify";

export interface Callback {
  id: number;
  site_id: number;
  conversation_id: number | null;
  visitor_id: number | null;
  phone: string;
  preferred_at: string | null;
  preferred_text: string | null;
  owner_id: number | null;
  remind_at: string | null;
  reminded_at: string | null;
  status: "open" | "done";
  notes: string;
  created_at: string;
  done_at: string | null;
}

export type CallbackList = "mine" | "unassigned" | "due" | "done";

export class Callbacks {
  list: CallbackList = "due";
  items: Callback[] = [];
  /** Reminders that rang since the list was last looked at. */
  dueNow = 0;
  shown = false;

  constructor(private changed: () => void, private flash: (text: string) => void, private open: (convId: number) => void) {}

  private loads = 0;

  /** Show a list; of overlapping loads only the last one's answer is shown. */
  async load(list: CallbackList = this.list): Promise<void> {
    this.list = list;
    const mine = ++this.loads;
    const items = await api<Callback[]>("GET", `/api/callbacks?list=${list}`);
    if (mine !== this.loads) return;
    this.items = items;
    this.changed();
  }

  onFrame(cb: Record<string, unknown>, due: boolean): void {
    if (due) {
      this.dueNow++;
      const phone = String(cb.phone ?? "");
      this.flash(t("cb.dueFlash", { phone }));
      beep();
      const conv = typeof cb.conversation_id === "number" ? cb.conversation_id : null;
      desktopNotify(t("cb.dueTitle"), phone, `callback-${cb.id}`, () => conv !== null && this.open(conv));
    }
    if (this.shown) void this.load();
    else this.changed();
  }

  async update(id: number, change: Record<string, unknown>): Promise<void> {
    await api("PATCH", `/api/callbacks/${id}`, change);
    await this.load();
  }
}
