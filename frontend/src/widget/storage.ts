// Where the frame keeps its state: its own localStorage/sessionStorage (Tresen origin) when the
// browser allows storage in third-party frames; otherwise the loader keeps it in the host page's
// storage, handed over with "restore" and updated with "persist" messages.
export interface Slot {
  get(): string | null;
  set(value: string): void;
}

function probe(session: boolean): Storage | null {
  try {
    const area = session ? window.sessionStorage : window.localStorage;
    area.setItem("tresen:probe", "1");
    area.removeItem("tresen:probe");
    return area;
  } catch {
    return null;
  }
}

function direct(area: Storage, key: string): Slot {
  return {
    get: () => {
      try {
        return area.getItem(key);
      } catch {
        return null;
      }
    },
    set: (v) => {
      try {
        area.setItem(key, v);
      } catch {
        /* full or revoked */
      }
    },
  };
}

export interface Restored {
  local: string | null;
  session: string | null;
}

/** Two slots (long-lived, per-tab). ``restored`` resolves with the loader's copy, or null. */
export async function openSlots(
  key: string,
  restored: Promise<Restored | null>,
  persist: (which: "local" | "session", value: string) => void,
): Promise<{ local: Slot; session: Slot }> {
  const areas = { local: probe(false), session: probe(true) };
  const copy = areas.local && areas.session ? null : await restored;
  const relay = (which: "local" | "session"): Slot => {
    let value = copy ? copy[which] : null;
    return {
      get: () => value,
      set: (v) => {
        value = v;
        persist(which, v);
      },
    };
  };
  return {
    local: areas.local ? direct(areas.local, key) : relay("local"),
    session: areas.session ? direct(areas.session, key + ":open") : relay("session"),
  };
}
