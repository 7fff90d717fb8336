// Web Radar rules (admins): ordered list, enable toggle, reorder, JSON editor, test on a visitor.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import type { Store } from "../store";
import type { Rule, RuleAction, RuleTest } from "../types";

const LANGS = ["de", "en", "da"] as const;
const EXAMPLE_WHEN = { all: [{ url: { glob: "/shop/product/*" } }, { time_on_page: { gte: 30 } }, { agent_free: { skill: "Sales" } }] };

interface Draft {
  id: number | null;
  name: string;
  priority: number;
  enabled: boolean;
  when: string;
  type: RuleAction["type"];
  text: Record<string, string>;
  skill: string;
  auto_open: boolean;
}

function draftOf(r: Rule | null, nextPriority: number): Draft {
  if (!r) {
    return {
      id: null, name: "", priority: nextPriority, enabled: true,
      when: JSON.stringify(EXAMPLE_WHEN, null, 2), type: "invite",
      text: { de: "Kann ich helfen?", en: "Can I help?", da: "Kan jeg hjælpe?" }, skill: "Sales", auto_open: false,
    };
  }
  return {
    id: r.id, name: r.name, priority: r.priority, enabled: r.enabled,
    when: JSON.stringify(r.when, null, 2), type: r.action.type, text: { ...r.action.text },
    skill: r.action.skill ?? "", auto_open: !!r.action.auto_open,
  };
}

/** The rule to send, or a message saying why the JSON is not even JSON. */
function ruleOf(d: Draft): { rule?: Record<string, unknown>; error?: string } {
  let when: unknown;
  try {
    when = JSON.parse(d.when);
  } catch (e: any) {
    return { error: `when: not valid JSON (${e.message})` };
  }
  const text = Object.fromEntries(Object.entries(d.text).filter(([, t]) => t.trim()));
  const action: Record<string, unknown> = { type: d.type, text };
  if (d.skill.trim()) action.skill = d.skill.trim();
  if (d.type === "invite") action.auto_open = d.auto_open;
  return { rule: { name: d.name, priority: d.priority, enabled: d.enabled, when, action } };
}

function Editor({ store, draft, onSaved, onCancel }: { store: Store; draft: Draft; onSaved: () => void; onCancel: () => void }) {
  const [d, setD] = useState(draft);
  const [error, setError] = useState("");
  const [visitor, setVisitor] = useState("");
  const [result, setResult] = useState<RuleTest | null>(null);
  // The test picks a live visitor: follow the radar while the editor is open.
  useEffect(() => store.radar.show(), [store]);
  const live = [...store.radar.visitors.values()];
  const set = (k: keyof Draft, v: unknown) => setD({ ...d, [k]: v });

  async function save(e: Event) {
    e.preventDefault();
    setError("");
    const { rule, error: bad } = ruleOf(d);
    if (!rule) return setError(bad!);
    try {
      if (d.id === null) await api("POST", "/api/radar/rules", { rule });
      else await api("PATCH", `/api/radar/rules/${d.id}`, rule);
      onSaved();
    } catch (err: any) {
      setError(err.message);
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
      setError(err.message);
    }
  }

  return (
    <form class="card rule-editor" onSubmit={save} aria-label={d.id === null ? "New rule" : `Edit rule ${d.id}`}>
      <h3>{d.id === null ? "New rule" : `Edit rule #${d.id}`}</h3>
      <div class="row">
        <label>Name <input name="rule-name" value={d.name} onInput={(e) => set("name", e.currentTarget.value)} required /></label>
        <label>Priority <input name="rule-priority" type="number" min={0} max={100000} value={d.priority} onInput={(e) => set("priority", Number(e.currentTarget.value))} /></label>
        <label class="check"><input name="rule-enabled" type="checkbox" checked={d.enabled} onChange={(e) => set("enabled", e.currentTarget.checked)} /> Enabled</label>
      </div>
      <label class="when">
        When (JSON condition tree; see docs/rules.md)
        <textarea name="rule-when" rows={10} spellcheck={false} value={d.when} onInput={(e) => set("when", e.currentTarget.value)} />
      </label>
      <fieldset>
        <legend>Action</legend>
        <div class="row">
          <label>Type
            <select name="rule-action-type" value={d.type} onChange={(e) => set("type", e.currentTarget.value)}>
              <option value="invite">invite</option>
              <option value="message">message</option>
              <option value="bot">bot</option>
            </select>
          </label>
          <label>Skill <input name="rule-skill" value={d.skill} onInput={(e) => set("skill", e.currentTarget.value)} placeholder="e.g. Sales" /></label>
          {d.type === "invite" && (
            <label class="check"><input name="rule-auto-open" type="checkbox" checked={d.auto_open} onChange={(e) => set("auto_open", e.currentTarget.checked)} /> Open the chat by itself (never on phones)</label>
          )}
        </div>
        {LANGS.map((lang) => (
          <label key={lang} class="text">
            Text ({lang})
            <input name={`rule-text-${lang}`} value={d.text[lang] ?? ""} dir="auto" onInput={(e) => set("text", { ...d.text, [lang]: e.currentTarget.value })} />
          </label>
        ))}
      </fieldset>
      {error && <p class="error" role="alert" data-testid="rule-error">{error}</p>}
      <div class="row">
        <button type="submit" class="primary">Save rule</button>
        <button type="button" onClick={onCancel}>Cancel</button>
        <span class="spacer" />
        <label>Test against visitor
          <select name="rule-test-visitor" value={visitor} onChange={(e) => setVisitor(e.currentTarget.value)}>
            <option value="">— live visitor —</option>
            {live.map((v) => (
              <option key={v.id} value={String(v.id)}>#{v.id} · {v.title || v.url}</option>
            ))}
          </select>
        </label>
        <button type="button" disabled={!visitor} onClick={() => void test()}>Test</button>
      </div>
      {result && (
        <dl class="rule-test" data-testid="rule-test">
          <dt>Holds now</dt><dd data-field="holds">{result.holds ? "yes" : "no"}</dd>
          <dt>Behaviour matches</dt><dd data-field="behaviour">{result.behaviour ? "yes" : "no"}</dd>
          <dt>Resources (agent free, queue)</dt><dd data-field="resources">{result.resources ? "yes" : "no"}</dd>
          <dt>Offers blocked until</dt>
          <dd data-field="blocked">
            {!result.blocked
              ? "not blocked"
              : result.blocked_until === null
                ? "the next event (an answer, a new page, the chat's end)"
                : new Date(result.blocked_until * 1000).toLocaleTimeString()}
          </dd>
        </dl>
      )}
    </form>
  );
}

export function Rules({ store }: { store: Store }) {
  const [rules, setRules] = useState<Rule[]>([]);
  const [editing, setEditing] = useState<Draft | null>(null);
  const [error, setError] = useState("");
  const [dragged, setDragged] = useState<number | null>(null);

  const load = () => api<Rule[]>("GET", "/api/radar/rules").then(setRules, (e) => setError(e.message));
  useEffect(() => void load(), []);

  async function run(fn: () => Promise<unknown>) {
    setError("");
    try {
      await fn();
    } catch (e: any) {
      setError(e.message);
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
      <h2>Web Radar rules</h2>
      <p class="hint">Tried in this order (lowest priority first); the first that holds makes the offer. Drag a row or use ↑/↓ to reorder.</p>
      {error && <p class="error" role="alert">{error}</p>}
      <table class="rule-list">
        <thead>
          <tr><th /><th>Priority</th><th>Name</th><th>Action</th><th>Enabled</th><th /></tr>
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
                <button aria-label="Move up" disabled={i === 0} onClick={() => move(i, -1)}>↑</button>
                <button aria-label="Move down" disabled={i === rules.length - 1} onClick={() => move(i, 1)}>↓</button>
              </td>
              <td>{r.priority}</td>
              <td dir="auto" class="rule-name">{r.name}</td>
              <td>{r.action.type}{r.action.skill ? ` · ${r.action.skill}` : ""}</td>
              <td>
                <input
                  type="checkbox"
                  aria-label="Enabled"
                  checked={r.enabled}
                  onChange={(e) => {
                    const enabled = e.currentTarget.checked;
                    void run(() => api("PATCH", `/api/radar/rules/${r.id}`, { enabled }));
                  }}
                />
              </td>
              <td>
                <button onClick={() => setEditing(draftOf(r, next))}>Edit</button>{" "}
                <button
                  onClick={() => {
                    if (confirm(`Delete rule "${r.name}"?`)) void run(() => api("DELETE", `/api/radar/rules/${r.id}`));
                  }}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rules.length === 0 && <p class="empty">No rules yet.</p>}
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
        <button class="primary" onClick={() => setEditing(draftOf(null, next))}>New rule</button>
      )}
    </section>
  );
}
