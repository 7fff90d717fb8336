import { channelLabel } from "./deliveries";
import type { Store } from "./store";
import { timeOf } from "./text";
import { visitorName } from "./types";

export function Inbox({ store }: { store: Store }) {
  const list = store.inbox();
  return (
    <nav class="inbox" aria-label="Open conversations">
      <h2>
        Open conversations <span class="count">{list.length}</span>
      </h2>
      {list.length === 0 && <p class="empty">No open conversations.</p>}
      <ul>
        {list.map((c) => {
          const last = c.last_message;
          const typing = store.typing.get(c.id);
          return (
            <li key={c.id}>
              <button
                class={"conv-item" + (store.active === c.id ? " active" : "") + (c.unread ? " has-unread" : "")}
                data-conv={c.id}
                onClick={() => void store.open(c.id)}
              >
                <span class="conv-top">
                  <span class="conv-name" dir="auto">
                    {visitorName(c.visitor, c.visitor_id)}
                  </span>
                  {c.unread > 0 && (
                    <span class="unread" data-testid="unread" aria-label={`${c.unread} unread`}>
                      {c.unread}
                    </span>
                  )}
                  <span class="conv-time">{timeOf(c.updated_at)}</span>
                </span>
                <span class="conv-preview" dir="auto">
                  {typing ? (
                    "typing…"
                  ) : last ? (
                    <>
                      {last.internal ? "📝 " : last.author_kind === "agent" ? "Agent: " : ""}
                      <bdi>{last.body}</bdi>
                    </>
                  ) : (
                    "(no messages yet)"
                  )}
                </span>
                <span class="conv-meta">
                  #{c.id} · {c.status}
                  {c.channel !== "web" && <span class="conv-channel"> · {c.channel === "email" ? "✉ email" : channelLabel(c.channel)}</span>}
                  {c.assignee_id === store.me.id ? " · mine" : c.assignee_id ? " · assigned" : ""}
                  {c.offered_to === store.me.id && <strong class="offered"> · offered to you</strong>}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
