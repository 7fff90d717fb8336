// Live visitors (the radar) for the views that list them. The server sends `radar` frames only
// to consoles that subscribed to the "visitors" view, so the console subscribes while such a
// view is on screen (and again after every reconnect: subscriptions live on the socket), starts
// from the HTTP snapshot, and keeps nothing otherwise: a list that is not live is not shown as
// if it were.
import type { AgentFrame, LegacyRadarFrame, RadarFrame, RadarVisitor } from "../shared/protocol";
import { api } from "./api";

interface Host {
  send(frame: AgentFrame): boolean;
  changed(): void;
  /** A visitor's new snapshot (the store shows a new page view in the visitor's context). */
  updated(before: RadarVisitor | undefined, now: RadarVisitor): void;
}

export class LiveVisitors {
  visitors = new Map<number, RadarVisitor>();
  /** Subscribed and loaded: `visitors` follows the site. */
  live = false;
  private shown = 0;
  /** Frames that arrived while the snapshot was loading, applied on top of it. */
  private early: RadarFrame[] | null = null;
  /** Bumped by every (un)subscribe: a snapshot that answers late is dropped. */
  private generation = 0;

  constructor(private host: Host) {}

  /** A view listing live visitors is on screen; call the returned function when it goes. */
  show(): () => void {
    if (this.shown++ === 0) void this.begin();
    return () => {
      if (--this.shown === 0) this.end();
    };
  }

  /** A new socket: it knows no subscription, and frames were missed meanwhile. */
  onWelcome(): void {
    if (this.shown) void this.begin();
  }

  onFrame(f: RadarFrame | LegacyRadarFrame): void {
    const batch = "visitor" in f ? this.fromLegacy(f) : f;
    if (this.early) this.early.push(batch);
    else if (this.live) this.apply(batch);
  }

  markInvited(visitorId: number): void {
    const v = this.visitors.get(visitorId);
    if (v) v.invited = true;
  }

  private async begin(): Promise<void> {
    const generation = ++this.generation;
    this.early = [];
    // Subscribe first, then read the snapshot: nothing in between is lost. If the socket is
    // down the frame is not sent; the next `welcome` subscribes again.
    this.host.send({ type: "subscribe", view: "visitors" });
    let rows: RadarVisitor[];
    try {
      rows = await api<RadarVisitor[]>("GET", "/api/radar/visitors");
    } catch {
      if (generation === this.generation) this.early = null;
      return; // the radar is an extra; the inbox works without it
    }
    if (generation !== this.generation) return;
    this.visitors = new Map(rows.map((v) => [v.id, v]));
    for (const batch of this.early.splice(0)) this.apply(batch);
    this.early = null;
    this.live = true;
    this.host.changed();
  }

  private end(): void {
    this.generation++;
    this.host.send({ type: "unsubscribe", view: "visitors" });
    this.live = false;
    this.early = null;
    this.visitors = new Map();
    this.host.changed();
  }

  private apply(batch: RadarFrame): void {
    for (const id of batch.gone || []) this.visitors.delete(id);
    for (const now of batch.visitors || []) {
      const before = this.visitors.get(now.id);
      this.visitors.set(now.id, now);
      this.host.updated(before, now);
    }
  }

  /** An old server's one-visitor frame (partial fields) as a batch. */
  private fromLegacy(f: LegacyRadarFrame): RadarFrame {
    if (f.gone) return { type: "radar", visitors: [], gone: [f.visitor.id] };
    const merged = { ...this.visitors.get(f.visitor.id), ...f.visitor } as RadarVisitor;
    return { type: "radar", visitors: [merged], gone: [] };
  }
}
