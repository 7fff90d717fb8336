// Web Radar rules (admins): ordered list, enable toggle, reorder, JSON editor, test on a visitor.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { errorText } from "../errors";
import { t } from "../i18n";
import type { Store } from "../store";
import type { Rule } from "../types";
import { Editor, draftOf } from "./RuleEditor";
import type { Draft } from "./RuleEditor";

interface GroupFigures {
  visitors: number;
  converted: number;
  rate: number;
  value_per_visitor: number;
}

interface RuleFigures {
  matched: number;
  shown: number;
  held_out: number;
  accepted: number;
  chats: number;
  invited_group: GroupFigures;
  held_out_group: GroupFigures;
  lift: { difference: number; ci95: [number, number]; significant: boolean; needed_per_group: number | null } | null;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** What the rule brought: invited vs held out, the lift with its 95 % interval. */
function Figures({ ruleId }: { ruleId: number }) {
  const [f, setF] = useState<RuleFigures | null>(null);
  const [error, setError] = useState("");
  useEffect(() => void api<RuleFigures>("GET", `/api/radar/rules/${ruleId}/figures`).then(setF, (e) => setError(errorText(e))), [ruleId]);
  if (error) return <p class="error">{error}</p>;
  if (!f) return <p class="builder-note">{t("loading")}</p>;
  const g = (x: GroupFigures) => t("rules.group", { n: x.visitors, rate: pct(x.rate), value: x.value_per_visitor.toFixed(2) });
  return (
    <dl class="rule-figures" data-testid="rule-figures">
      <dt>{t("rules.matched")}</dt><dd data-field="matched">{f.matched}</dd>
      <dt>{t("rules.shownAccepted")}</dt><dd data-field="shown">{f.shown} / {f.accepted} / {f.chats}</dd>
      <dt>{t("rules.invited")}</dt><dd data-field="invited">{g(f.invited_group)}</dd>
      <dt>{t("rep.heldOut")}</dt><dd data-field="held-out">{f.held_out ? g(f.held_out_group) : t("rules.noControl")}</dd>
      <dt>{t("rules.lift")}</dt>
      <dd data-field="lift">
        {f.lift
          ? t("rules.liftValue", { sign: f.lift.difference >= 0 ? "+" : "", d: pct(f.lift.difference), lo: pct(f.lift.ci95[0]), hi: pct(f.lift.ci95[1]) }) +
            (f.lift.significant ? t("rules.significant") : f.lift.needed_per_group ? t("rules.needed", { n: f.lift.needed_per_group }) : "")
          : t("rules.needsBoth")}
      </dd>
    </dl>
  );
}

export function Rules({ store }: { store: Store }) {
  const [rules, setRules] = useState<Rule[]>([]);
  const [editing, setEditing] = useState<Draft | null>(null);
  const [error, setError] = useState("");
  const [dragged, setDragged] = useState<number | null>(null);
  const [showing, setShowing] = useState<number | null>(null);

  const load = () => api<Rule[]>("GET", "/api/radar/rules").then(setRules, (e) => setError(errorText(e)));
  useEffect(() => void load(), []);

  async function run(fn: () => Promise<unknown>) {
    setError("");
    try {
      await fn();
    } catch (e: any) {
      setError(errorText(e));
    }
    await load();
  }

  function reorder(ids: number[]) {
    void run(() => api<Rule[]>("POST", "/api/radar/rules/order", { rule_ids: ids }));
  }

  function move(i: number, delta: number) {
    const ids = rules.map((r) => r.id);
    const j = i + delta;
    if (j < 0 || j >= ids.length) return;
    [ids[i], ids[j]] = [ids[j], ids[i]];
    reorder(ids);
  }

  function drop(target: number) {
    if (dragged === null || dragged === target) return;
    const ids = rules.map((r) => r.id).filter((id) => id !== dragged);
    ids.splice(ids.indexOf(target), 0, dragged);
    setDragged(null);
    reorder(ids);
  }

  const next = (rules.length ? Math.max(...rules.map((r) => r.priority)) : 0) + 10;
  return (
    <section class="admin rules">
      <h2>{t("rules.title")}</h2>
      <p class="hint">{t("rules.hint")}</p>
      {error && <p class="error" role="alert">{error}</p>}
      <table class="rule-list">
        <thead>
          <tr><th /><th>{t("sup.priority")}</th><th>{t("contacts.name")}</th><th>{t("audit.action")}</th><th>{t("rules.enabled")}</th><th /></tr>
        </thead>
        <tbody>
          {rules.map((r, i) => (
            <tr
              key={r.id}
              data-rule={r.id}
              draggable
              onDragStart={() => setDragged(r.id)}
              onDragOver={(e) => e.preventDefault()}
              onDrop={() => drop(r.id)}
              class={dragged === r.id ? "dragging" : ""}
            >
              <td class="order">
                <button aria-label={t("rules.up")} disabled={i === 0} onClick={() => move(i, -1)}>↑</button>
                <button aria-label={t("rules.down")} disabled={i === rules.length - 1} onClick={() => move(i, 1)}>↓</button>
              </td>
              <td>{r.priority}</td>
              <td dir="auto" class="rule-name">{r.name}</td>
              <td>{r.action.type}{r.action.skill ? ` · ${r.action.skill}` : ""}</td>
              <td>
                <input
                  type="checkbox"
                  aria-label={t("rules.enabled")}
                  checked={r.enabled}
                  onChange={(e) => {
                    const enabled = e.currentTarget.checked;
                    void run(() => api("PATCH", `/api/radar/rules/${r.id}`, { enabled }));
                  }}
                />
              </td>
              <td>
                <button onClick={() => setShowing(showing === r.id ? null : r.id)}>{t("rules.figures")}</button>{" "}
                <button onClick={() => setEditing(draftOf(r, next))}>{t("canned.edit")}</button>{" "}
                <button
                  onClick={() => {
                    if (confirm(t("rules.confirmDelete", { name: r.name }))) void run(() => api("DELETE", `/api/radar/rules/${r.id}`));
                  }}
                >
                  {t("canned.delete")}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rules.length === 0 && <p class="empty">{t("rules.none")}</p>}
      {showing !== null && rules.some((r) => r.id === showing) && <Figures key={showing} ruleId={showing} />}
      {editing ? (
        <Editor
          key={editing.id ?? "new"}
          store={store}
          draft={editing}
          onSaved={() => {
            setEditing(null);
            void load();
          }}
          onCancel={() => setEditing(null)}
        />
      ) : (
        <button class="primary" onClick={() => setEditing(draftOf(null, next))}>{t("rules.new")}</button>
      )}
    </section>
  );
}
