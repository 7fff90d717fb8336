// The conversation lifecycle in the console (docs/lifecycle.md): the silent and waiting marks,
// the suggested gentle message, the visitor's rating, the read-only view after a transfer.
import type { Store } from "./store";
import { t } from "./i18n";
import type { Agent, Conv } from "./types";

export interface Marks {
  silent?: number;
  waiting?: number;
  since?: string;
  text?: string;
  nudged?: number;
}

export interface RatingInfo {
  score: number;
  scale: "stars" | "thumbs";
  comment: string;
}

export function marksOf(c: Conv): Marks {
  if (c.status !== "open") return {};
  return ((c.meta && (c.meta.lifecycle as Marks)) || {}) as Marks;
}

export function ratingOf(c: Conv): RatingInfo | null {
  return ((c.meta && (c.meta.rating as RatingInfo)) || null) as RatingInfo | null;
}

/** After a transfer the previous agent only reads (admins and supervisors may still write). */
export function readOnlyFor(c: Conv, me: Agent): boolean {
  const former = ((c.meta && (c.meta.former_agents as number[])) || []) as number[];
  return former.includes(me.id) && c.assignee_id !== me.id && me.role !== "admin" && me.role !== "supervisor";
}

/** The marks in the chat list: a visitor silent after the agent's question, or waiting. */
export function ListMarks({ c }: { c: Conv }) {
  const m = marksOf(c);
  return (
    <>
      {m.silent !== undefined && (
        <span class="flag flag-silent" data-flag="silent">
          {t("life.silentMark")}
        </span>
      )}
      {m.waiting !== undefined && (
        <strong class="flag flag-waiting" data-flag="waiting">
          {t("life.waitingMark")}
        </strong>
      )}
    </>
  );
}

function stars(r: RatingInfo): string {
  if (r.scale === "thumbs") return r.score >= 4 ? "👍" : "👎";
  return "★".repeat(r.score) + "☆".repeat(5 - r.score);
}

/** Above the messages: the silent banner with the suggested message, the rating. */
export function LifecycleBar({ store, conv }: { store: Store; conv: Conv }) {
  const m = marksOf(conv);
  const rating = ratingOf(conv);
  const mine = conv.assignee_id === store.me.id;
  return (
    <>
      {m.silent !== undefined && (
        <div class="lifecycle silent" role="status" data-lifecycle="silent">
          <span>{t("life.silentSince", { time: m.since ? new Date(m.since).toLocaleTimeString() : t("life.yourMessage") })}</span>
          {mine && m.text && m.nudged === undefined && (
            <button data-action="nudge" onClick={() => store.send(conv.id, m.text as string, false)}>
              {t("life.send")}“<bdi>{m.text}</bdi>”
            </button>
          )}
        </div>
      )}
      {m.waiting !== undefined && (
        <div class="lifecycle waiting" role="status" data-lifecycle="waiting">
          {t("life.waiting")}
        </div>
      )}
      {rating && (
        <div class="lifecycle rating" data-rating={rating.score}>
          <span aria-label={t("life.rated", { n: rating.score })}>{t("life.rating")}{stars(rating)}</span>
          {rating.comment && (
            <q dir="auto" class="rating-comment">
              {rating.comment}
            </q>
          )}
        </div>
      )}
    </>
  );
}
