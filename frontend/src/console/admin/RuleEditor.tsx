import { isolate } from "../../shared/bidi";
// One rule in the making: the condition built from the catalogue (or typed as JSON), the
// action with a live preview of the invitation, the control share and the goal; test it on a
// live visitor, replay it over the stored visits, save it.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { errorText } from "../errors";
import { t } from "../i18n";
import type { Store } from "../store";
import { STRINGS } from "../../widget/i18n";
import type { Lang } from "../../shared/bridge";
import type { Rule, RuleAction, RuleTest } from "../types";
import { RuleBuilder } from "./RuleBuilder";

const LANGS = ["de", "en", "da"] as const;
const EMPTY_WHEN = { all: [] };

export interface Draft {
  id: number | null;
  name: string;
  priority: number;
  enabled: boolean;
  when: string;
  type: RuleAction["type"];
  text: Record<string, string>;
  skill: string;
  auto_open: boolean;
  control: string; // percent
  goal: string; // an event name, or a path (starting with "/")
}

export function draftOf(r: Rule | null, nextPriority: number): Draft {
  if (!r) {
    return {
      id: null, name: "", priority: nextPriority, enabled: true,
      when: JSON.stringify(EMPTY_WHEN, null, 2), type: "invite",
      text: { de: "Kann ich helfen?", en: "Can I help?", da: "Kan jeg hjælpe?" }, skill: "Sales", auto_open: false,
      control: "10", goal: "purchase",
    };
  }
  return {
    id: r.id, name: r.name, priority: r.priority, enabled: r.enabled,
    when: JSON.stringify(r.when, null, 2), type: r.action.type, text: { ...r.action.text },
    skill: r.action.skill ?? "", auto_open: !!r.action.auto_open,
    control: String(Math.round((r.control ?? 0) * 1000) / 10),
    goal: r.goal?.url ?? r.goal?.event ?? "purchase",
  };
}

/** The rule to send, or a message saying why the JSON is not even JSON. */
function ruleOf(d: Draft): { rule?: Record<string, unknown>; error?: string } {
  let when: unknown;
  try {
    when = JSON.parse(d.when);
  } catch (e: any) {
    return { error: t("re.badJson", { detail: e.message }) };
  }
  const text = Object.fromEntries(Object.entries(d.text).filter(([, t]) => t.trim()));
  const action: Record<string, unknown> = { type: d.type, text };
  if (d.skill.trim()) action.skill = d.skill.trim();
  if (d.type === "invite") action.auto_open = d.auto_open;
  const control = Number(d.control || 0) / 100;
  if (!Number.isFinite(control) || control < 0 || control > 0.5) return { error: t("re.badControl") };
  const goal = d.goal.trim().startsWith("/") ? { url: d.goal.trim() } : { event: d.goal.trim() || "purchase" };
  return { rule: { name: d.name, priority: d.priority, enabled: d.enabled, when, action, control, goal } };
}

export function Editor({ store, draft, onSaved, onCancel }: { store: Store; draft: Draft; onSaved: () => void; onCancel: () => void }) {
  const [d, setD] = useState(draft);
  const [error, setError] = useState("");
  // The server's own words locate a fault in the condition tree (the builder shows it there).
  const [fault, setFault] = useState("");
  const [visitor, setVisitor] = useState("");
  const [result, setResult] = useState<RuleTest | null>(null);
  // The test picks a live visitor: follow the radar while the editor is open.
  useEffect(() => store.radar.show(), [store]);
  const live = [...store.radar.visitors.values()];
  const set = (k: keyof Draft, v: unknown) => setD({ ...d, [k]: v });

  async function save(e: Event) {
    e.preventDefault();
    setError("");
    setFault("");
    const { rule, error: bad } = ruleOf(d);
    if (!rule) return setError(bad!);
    try {
      if (d.id === null) await api("POST", "/api/radar/rules", { rule });
      else await api("PATCH", `/api/radar/rules/${d.id}`, rule);
      onSaved();
    } catch (err: any) {
      setError(errorText(err));
      setFault(err.message);
    }
  }

  async function test() {
    setError("");
    setResult(null);
    const { rule, error: bad } = ruleOf(d);
    if (!rule) return setError(bad!);
    try {
      setResult(await api<RuleTest>("POST", "/api/radar/rules/test", { visitor_id: Number(visitor), rule }));
    } catch (err: any) {
      setError(errorText(err));
      setFault(err.message);
    }
  }

  return (
    <form class="card rule-editor" onSubmit={save} aria-label={d.id === null ? t("rules.new") : t("re.editN", { id: d.id })}>
      <h3>{d.id === null ? t("rules.new") : t("re.edit", { id: d.id })}</h3>
      <div class="row">
        <label>{t("contacts.name")} <input name="rule-name" value={d.name} onInput={(e) => set("name", e.currentTarget.value)} required /></label>
        <label>{t("sup.priority")} <input name="rule-priority" type="number" min={0} max={100000} value={d.priority} onInput={(e) => set("priority", Number(e.currentTarget.value))} /></label>
        <label class="check"><input name="rule-enabled" type="checkbox" checked={d.enabled} onChange={(e) => set("enabled", e.currentTarget.checked)} /> {t("rules.enabled")}</label>
      </div>
      <fieldset class="when-builder">
        <legend>{t("re.when")}</legend>
        <RuleBuilder when={d.when} onChange={(w) => set("when", w)} serverError={fault} />
      </fieldset>
      <label class="when">
        {t("re.json")}
        <textarea name="rule-when" rows={10} spellcheck={false} value={d.when} onInput={(e) => set("when", e.currentTarget.value)} />
      </label>
      <fieldset>
        <legend>{t("audit.action")}</legend>
        <div class="row">
          <label>{t("re.type")}
            <select name="rule-action-type" value={d.type} onChange={(e) => set("type", e.currentTarget.value)}>
              <option value="invite">{t("re.invite")}</option>
              <option value="message">{t("re.message")}</option>
              <option value="bot">{t("re.bot")}</option>
            </select>
          </label>
          <label>{t("sup.skill")} <input name="rule-skill" value={d.skill} onInput={(e) => set("skill", e.currentTarget.value)} placeholder={t("re.skillExample")} /></label>
          {d.type === "invite" && (
            <label class="check"><input name="rule-auto-open" type="checkbox" checked={d.auto_open} onChange={(e) => set("auto_open", e.currentTarget.checked)} /> {t("re.autoOpen")}</label>
          )}
        </div>
        {LANGS.map((lang) => (
          <label key={lang} class="text">
            {t("re.text", { lang })}
            <input name={`rule-text-${lang}`} value={d.text[lang] ?? ""} dir="auto" onInput={(e) => set("text", { ...d.text, [lang]: e.currentTarget.value })} />
          </label>
        ))}
        <Preview d={d} />
        <div class="row">
          <label>{t("re.control")} <input name="rule-control" type="number" min={0} max={50} step="any" value={d.control} onInput={(e) => set("control", e.currentTarget.value)} /></label>
          <label>{t("re.goal")} <input name="rule-goal" value={d.goal} onInput={(e) => set("goal", e.currentTarget.value)} /></label>
        </div>
      </fieldset>
      {error && <p class="error" role="alert" data-testid="rule-error">{error}</p>}
      <Replay d={d} />
      <div class="row">
        <button type="submit" class="primary">{t("re.save")}</button>
        <button type="button" onClick={onCancel}>{t("radar.cancel")}</button>
        <span class="spacer" />
        <label>{t("re.testAgainst")}
          <select name="rule-test-visitor" value={visitor} onChange={(e) => setVisitor(e.currentTarget.value)}>
            <option value="">{t("re.liveVisitor")}</option>
            {live.map((v) => (
              <option key={v.id} value={String(v.id)}>#{v.id} · {isolate(v.title || v.url)}</option>
            ))}
          </select>
        </label>
        <button type="button" disabled={!visitor} onClick={() => void test()}>{t("re.test")}</button>
      </div>
      {result && (
        <dl class="rule-test" data-testid="rule-test">
          <dt>{t("re.holds")}</dt><dd data-field="holds">{result.holds ? t("re.yes") : t("re.no")}</dd>
          <dt>{t("re.behaviour")}</dt><dd data-field="behaviour">{result.behaviour ? t("re.yes") : t("re.no")}</dd>
          <dt>{t("re.resources")}</dt><dd data-field="resources">{result.resources ? t("re.yes") : t("re.no")}</dd>
          <dt>{t("re.blockedUntil")}</dt>
          <dd data-field="blocked">
            {!result.blocked
              ? t("re.notBlocked")
              : result.blocked_until === null
                ? t("re.nextEvent")
                : new Date(result.blocked_until * 1000).toLocaleTimeString()}
          </dd>
        </dl>
      )}
    </form>
  );
}


/** The invitation as the visitor will see it, in the language picked here. */
function Preview({ d }: { d: Draft }) {
  const [lang, setLang] = useState<string>("en");
  if (d.type !== "invite") return null;
  const text = d.text[lang] || d.text.en || Object.values(d.text).find(Boolean) || "";
  return (
    <div class="invite-preview-wrap">
      <label>{t("re.previewIn")}{" "}
        <select name="rule-preview-lang" value={lang} onChange={(e) => setLang(e.currentTarget.value)}>
          {LANGS.map((l) => <option key={l} value={l}>{l}</option>)}
        </select>
      </label>
      <div class="invite-preview" data-testid="invite-preview" lang={lang}>
        <p dir="auto">{text}</p>
        <span class="preview-buttons">
          <span class="chat-now">{STRINGS[lang as Lang].chatNow}</span> <span>{STRINGS[lang as Lang].noThanks}</span>
        </span>
      </div>
    </div>
  );
}

interface ReplayResult {
  visits: number;
  matched_visits: number;
  matched_visitors: number;
  let_through: number;
}

/** "What would this have done": the draft over the stored visits of the last days. */
function Replay({ d }: { d: Draft }) {
  const [days, setDays] = useState("7");
  const [result, setResult] = useState<ReplayResult | null>(null);
  const [error, setError] = useState("");
  async function run() {
    setError("");
    setResult(null);
    const { rule, error: bad } = ruleOf(d);
    if (!rule) return setError(bad!);
    try {
      setResult(await api<ReplayResult>("POST", "/api/radar/rules/replay", { rule, days: Number(days) }));
    } catch (e: any) {
      setError(errorText(e));
    }
  }
  return (
    <div class="row replay">
      <label>
        {t("re.replayOver")} <input name="rule-replay-days" type="number" min={1} max={365} value={days} onInput={(e) => setDays(e.currentTarget.value)} />{" "}
        {t("re.days")}
      </label>
      <button type="button" onClick={() => void run()}>{t("re.replay")}</button>
      {error && <span class="error" role="alert">{error}</span>}
      {result && (
        <span data-testid="rule-replay">
          {t("re.replayResult", {
            visitors: result.matched_visitors,
            visits: result.visits,
            matched: result.matched_visits,
            through: result.let_through,
          })}
        </span>
      )}
    </div>
  );
}
