// Routing in a chat: the offer banner (accept/decline), routing facts, overflow details, transfer.
import { isolate } from "../shared/bidi";
import { useEffect, useState } from "preact/hooks";
import { api } from "./api";
import { clock, useNow } from "./hooks";
import type { Store } from "./store";
import { t, tValue } from "./i18n";
import type { Agent, Conv } from "./types";
import { errorText } from "./errors";

export function OfferBanner({ store, conv }: { store: Store; conv: Conv }) {
  const [busy, setBusy] = useState(false);
  if (conv.offered_to !== store.me.id) return null;
  const act = (fn: () => Promise<void>) => {
    setBusy(true);
    fn().catch((e) => store.flash(errorText(e))).finally(() => setBusy(false));
  };
  return (
    <div class="offer-banner" role="alert" data-testid="offer-banner">
      <strong>{t("route.offered")}</strong>
      <span class="spacer" />
      <button class="primary" disabled={busy} onClick={() => act(() => store.accept(conv.id))}>{t("route.accept")}</button>
      <button disabled={busy} onClick={() => act(() => store.decline(conv.id))}>{t("route.decline")}</button>
    </div>
  );
}

export function RoutingInfo({ conv }: { conv: Conv }) {
  const now = useNow();
  const meta = conv.meta || {};
  const waiting = conv.queued_at && conv.assignee_id === null ? Date.parse(conv.queued_at) / 1000 : null;
  const facts: string[] = [];
  if (conv.skill) facts.push(`Skill ${conv.skill}`);
  if (conv.department) facts.push(`Dept. ${conv.department}`);
  if (conv.priority) facts.push("high priority");
  if (conv.channel && conv.channel !== "web") facts.push(`via ${conv.channel}`);
  const hasOverflow = meta.overflow_choice || meta.callback || meta.reply_to;
  if (!facts.length && waiting === null && !hasOverflow) return null;
  return (
    <div class="routing-info" data-testid="routing-info">
      {facts.map((f) => (
        <span class="chip" key={f}>{f}</span>
      ))}
      {waiting !== null && !isNaN(waiting) && <span class="chip waiting">{t("route.waiting", { time: clock(now - waiting) })}</span>}
      {meta.overflow_choice && <span class="chip overflow">{t("route.chose", { choice: tValue("overflow", meta.overflow_choice) })}</span>}
      {meta.callback && (
        <span class="chip overflow" data-field="callback">
          {t("route.callBack", { phone: meta.callback.phone })}
          {meta.callback.when ? ` (${meta.callback.when})` : ""}
        </span>
      )}
      {meta.reply_to && (
        <span class="chip overflow" data-field="reply-to">{t("route.replyTo", { email: meta.reply_to })}</span>
      )}
    </div>
  );
}

export function TransferDialog({ store, conv, onClose }: { store: Store; conv: Conv; onClose: () => void }) {
  const [agents, setAgents] = useState<Agent[]>([]);
  const [mode, setMode] = useState<"agent" | "skill">("agent");
  const [agentId, setAgentId] = useState("");
  const [skill, setSkill] = useState(conv.skill ?? "");
  const [note, setNote] = useState("");
  const [error, setError] = useState("");

  useEffect(() => {
    api<Agent[]>("GET", "/api/agents").then(setAgents, (e) => setError(errorText(e)));
  }, []);
  const skills = [...new Set(agents.flatMap((a) => a.skills))].sort();
  const others = agents.filter((a) => a.id !== store.me.id && a.is_active);

  async function submit(e: Event) {
    e.preventDefault();
    setError("");
    try {
      const target = mode === "agent" ? { agent_id: Number(agentId) } : { skill: skill.trim() };
      await store.transfer(conv.id, target, note.trim());
      store.flash(t("route.transferred", { id: conv.id }));
      onClose();
    } catch (err: any) {
      setError(errorText(err));
    }
  }

  return (
    <form class="transfer card" onSubmit={submit} aria-label={t("route.form")}>
      <div class="row">
        <label class="check"><input type="radio" name="transfer-mode" checked={mode === "agent"} onChange={() => setMode("agent")} />{t("route.toAgent")}</label>
        <label class="check"><input type="radio" name="transfer-mode" checked={mode === "skill"} onChange={() => setMode("skill")} />{t("route.toSkill")}</label>
      </div>
      {mode === "agent" ? (
        <select name="transfer-agent" value={agentId} onChange={(e) => setAgentId(e.currentTarget.value)} required>
          <option value="">{t("route.chooseAgent")}</option>
          {others.map((a) => (
            <option key={a.id} value={String(a.id)}>
              {isolate(a.display_name)} · {a.status}{a.skills.length ? ` · ${a.skills.join(", ")}` : ""}
            </option>
          ))}
        </select>
      ) : (
        <>
          <input name="transfer-skill" list="transfer-skills" value={skill} onInput={(e) => setSkill(e.currentTarget.value)} placeholder={t("route.skillPlaceholder")} aria-label={t("route.skillPlaceholder")} required />
          <datalist id="transfer-skills">
            {skills.map((s) => <option key={s} value={s} />)}
          </datalist>
        </>
      )}
      <textarea name="transfer-note" rows={2} maxLength={2000} placeholder={t("route.note")} aria-label={t("route.note")} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      {error && <p class="error" role="alert">{error}</p>}
      <div class="row">
        <button type="submit" class="primary">{t("pane.transfer")}</button>
        <button type="button" onClick={onClose}>{t("radar.cancel")}</button>
      </div>
    </form>
  );
}
