// An invitation from Web Radar: a bubble beside the launcher, a one-line chip on phones, or a
// card in the open panel; "Chat now" or "No thanks".
import type { Invite } from "./chatState";
import type { Strings } from "./i18n";
import { CloseIcon, initial } from "./icons";

export interface InviteProps {
  inv: Invite;
  t: Strings;
  onAccept: () => void;
  onDismiss: () => void;
}

/** The gentle invitation beside the launcher: who, what, "Chat now" and a way to say no. */
export function InviteBubble({ inv, t, onAccept, onDismiss }: InviteProps) {
  return (
    <section class="invite" role="region" aria-label={t.invitation}>
      <button type="button" class="x" aria-label={t.noThanks} title={t.noThanks} onClick={onDismiss}>
        <CloseIcon />
      </button>
      <div class="who">
        {inv.agentPhoto && inv.agentPhoto.startsWith("/api/agents/") ? (
          <img class="avatar" src={inv.agentPhoto} alt="" />
        ) : (
          <span class="avatar" aria-hidden="true">
            {initial(inv.agentName || t.title)}
          </span>
        )}
        <strong>
          <bdi>{inv.agentName || t.title}</bdi>
        </strong>
      </div>
      <p class="itext" dir="auto">
        {inv.text}
      </p>
      <button type="button" class="accept" onClick={onAccept}>
        {t.chatNow}
      </button>
    </section>
  );
}

/** On phones: one line beside the launcher, nothing over the page's content. */
export function InviteChip({ inv, t, onAccept, onDismiss }: InviteProps) {
  return (
    <div class="chip" role="region" aria-label={t.invitation}>
      <button type="button" class="ctext" dir="auto" onClick={onAccept} title={inv.text}>
        {inv.text}
      </button>
      <button type="button" class="cx" aria-label={t.noThanks} onClick={onDismiss}>
        <CloseIcon />
      </button>
    </div>
  );
}
