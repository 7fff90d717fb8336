// The rule builder's catalogue: each condition of docs/rules.md with its inputs, how it is read
// from the JSON tree and written back. The JSON stays the rule's form; the builder edits it.
// Labels are catalogue keys (../lang/*.pages.ts): the builder shows them in the agent's language.
import { t, type Key } from "../i18n";

export type Json = Record<string, any>;

/** A group (all / any / none) or a leaf (one catalogue entry) of the condition tree. */
export type Node =
  | { kind: "group"; op: "all" | "any" | "none"; children: Node[] }
  | { kind: "leaf"; type: string; values: Record<string, string> }
  | { kind: "raw"; json: Json };

export interface Field {
  key: string;
  label: Key;
  input: "text" | "number" | "select";
  options?: string[];
  placeholder?: string;
  optional?: boolean;
}

export interface Entry {
  type: string;
  label: Key;
  fields: Field[];
  read: (arg: any) => Record<string, string> | null; // null: not representable here
  write: (v: Record<string, string>) => unknown;
}

const MATCH = ["glob", "contains", "eq", "regex"];
const num = (s: string) => Number(s);
const minutes = (seconds: unknown) => String(Number(seconds) / 60);
const seconds = (min: string) => Math.round(Number(min) * 60);

function textMatch(type: string, label: Key): Entry {
  return {
    type,
    label,
    fields: [
      { key: "mode", label: "rb.match", input: "select", options: MATCH },
      { key: "pattern", label: "rc.pattern", input: "text", placeholder: "/shop/product/*" },
    ],
    read: (a) => {
      const mode = Object.keys(a || {})[0];
      return MATCH.includes(mode) ? { mode, pattern: String(a[mode]) } : null;
    },
    write: (v) => ({ [v.mode || "glob"]: v.pattern }),
  };
}

export const CATALOGUE: Entry[] = [
  textMatch("url", "rc.url"),
  {
    type: "viewed",
    label: "rc.viewed",
    fields: [{ key: "product", label: "rc.product", input: "text", placeholder: "phone-x" }],
    read: (a) => (a && typeof a.product === "string" ? { product: a.product } : null),
    write: (v) => ({ product: v.product }),
  },
  {
    type: "form_dwell",
    label: "rc.formDwell",
    fields: [
      { key: "form", label: "rc.form", input: "text", placeholder: "contract" },
      { key: "minutes", label: "rc.atLeastMinutes", input: "number" },
    ],
    read: (a) => (a && typeof a.form === "string" ? { form: a.form, minutes: minutes(a.gte) } : null),
    write: (v) => ({ form: v.form, gte: seconds(v.minutes) }),
  },
  {
    type: "time_on_page",
    label: "rc.timeOnPage",
    fields: [{ key: "minutes", label: "rc.atLeastMinutes", input: "number" }],
    read: (a) => (a && "gte" in a ? { minutes: minutes(a.gte) } : null),
    write: (v) => ({ gte: seconds(v.minutes) }),
  },
  {
    type: "time_on_site",
    label: "rc.timeOnSite",
    fields: [{ key: "minutes", label: "rc.atLeastMinutes", input: "number" }],
    read: (a) => (a && "gte" in a ? { minutes: minutes(a.gte) } : null),
    write: (v) => ({ gte: seconds(v.minutes) }),
  },
  {
    type: "pages_viewed",
    label: "rc.pagesViewed",
    fields: [{ key: "n", label: "rc.atLeast", input: "number" }],
    read: (a) => (a && "gte" in a ? { n: String(a.gte) } : null),
    write: (v) => ({ gte: num(v.n) }),
  },
  {
    type: "event",
    label: "rc.event",
    fields: [
      { key: "name", label: "hooks.event", input: "text", placeholder: "checkout_code_failed" },
      { key: "within", label: "rc.within", input: "number", optional: true },
    ],
    read: (a) =>
      a && typeof a.name === "string" && !a.props ? { name: a.name, within: a.within == null ? "" : String(a.within) } : null,
    write: (v) => (v.within ? { name: v.name, within: num(v.within) } : { name: v.name }),
  },
  {
    type: "attr",
    label: "radar.segment",
    fields: [{ key: "value", label: "rc.segmentIs", input: "text", placeholder: "gold" }],
    read: (a) => (a && a.name === "segment" && (a.op ?? "eq") === "eq" ? { value: String(a.value) } : null),
    write: (v) => ({ name: "segment", op: "eq", value: v.value }),
  },
  {
    type: "returning",
    label: "rc.returning",
    fields: [{ key: "is", label: "radar.returning", input: "select", options: ["true", "false"] }],
    read: (a) => (typeof a === "boolean" ? { is: String(a) } : null),
    write: (v) => v.is !== "false",
  },
  {
    type: "device",
    label: "radar.device",
    fields: [{ key: "device", label: "radar.device", input: "select", options: ["desktop", "mobile", "tablet"] }],
    read: (a) => (typeof a === "string" ? { device: a } : null),
    write: (v) => v.device || "desktop",
  },
  {
    type: "language",
    label: "canned.language",
    fields: [{ key: "language", label: "canned.language", input: "text", placeholder: "de" }],
    read: (a) => (typeof a === "string" ? { language: a } : null),
    write: (v) => v.language,
  },
  textMatch("referrer", "rc.referrer"),
  {
    type: "agent_free",
    label: "rc.agentFree",
    fields: [{ key: "skill", label: "rc.skillAny", input: "text", placeholder: "Sales", optional: true }],
    read: (a) => (a && Object.keys(a).every((k) => k === "skill") ? { skill: a.skill ?? "" } : null),
    write: (v) => (v.skill ? { skill: v.skill } : {}),
  },
  {
    type: "queue_wait",
    label: "rc.queueWait",
    fields: [
      { key: "skill", label: "sup.skill", input: "text", placeholder: "Sales", optional: true },
      { key: "lt", label: "rc.seconds", input: "number" },
    ],
    read: (a) => (a && "lt" in a ? { skill: a.skill ?? "", lt: String(a.lt) } : null),
    write: (v) => (v.skill ? { skill: v.skill, lt: num(v.lt) } : { lt: num(v.lt) }),
  },
];

export const ENTRY = Object.fromEntries(CATALOGUE.map((e) => [e.type, e]));

export function blank(type: string): Node {
  const entry = ENTRY[type];
  const values: Record<string, string> = {};
  for (const f of entry.fields) values[f.key] = f.options ? f.options[0] : "";
  return { kind: "leaf", type, values };
}

/** The builder's tree from the JSON condition (parts it cannot show stay as raw JSON). */
export function fromJson(json: Json): Node {
  const keys = Object.keys(json || {});
  if (keys.length === 1) {
    const [k] = keys;
    const arg = json[k];
    if ((k === "all" || k === "any") && Array.isArray(arg)) return { kind: "group", op: k, children: arg.map(fromJson) };
    if (k === "not" && arg && typeof arg === "object") {
      const inner = fromJson(arg);
      if (inner.kind === "group" && inner.op === "any") return { kind: "group", op: "none", children: inner.children };
      return { kind: "group", op: "none", children: [inner] };
    }
    const entry = ENTRY[k];
    const values = entry && entry.read(arg);
    if (values) return { kind: "leaf", type: k, values };
  }
  return { kind: "raw", json };
}

export function toJson(node: Node): Json {
  if (node.kind === "raw") return node.json;
  if (node.kind === "leaf") return { [node.type]: ENTRY[node.type].write(node.values) };
  const children = node.children.map(toJson);
  if (node.op === "none") return { not: children.length === 1 ? children[0] : { any: children } };
  return { [node.op]: children };
}

/** What is wrong with a field's value, shown at the field (the server checks again). */
export function fieldError(f: Field, value: string): string | null {
  if (!value.trim()) return f.optional ? null : t("rc.required");
  if (f.input === "number" && (!Number.isFinite(Number(value)) || Number(value) < 0)) return t("rc.number");
  return null;
}
