// The rule builder's catalogue: each condition of docs/rules.md with its inputs, how it is read
// from the JSON tree and written back. The JSON stays the rule's form; the builder edits it.

export type Json = Record<string, any>;

/** A group (all / any / none) or a leaf (one catalogue entry) of the condition tree. */
export type Node =
  | { kind: "group"; op: "all" | "any" | "none"; children: Node[] }
  | { kind: "leaf"; type: string; values: Record<string, string> }
  | { kind: "raw"; json: Json };

export interface Field {
  key: string;
  label: string;
  input: "text" | "number" | "select";
  options?: string[];
  placeholder?: string;
  optional?: boolean;
}

export interface Entry {
  type: string;
  label: string;
  fields: Field[];
  read: (arg: any) => Record<string, string> | null; // null: not representable here
  write: (v: Record<string, string>) => unknown;
}

const MATCH = ["glob", "contains", "eq", "regex"];
const num = (s: string) => Number(s);
const minutes = (seconds: unknown) => String(Number(seconds) / 60);
const seconds = (min: string) => Math.round(Number(min) * 60);

function textMatch(type: string, label: string): Entry {
  return {
    type,
    label,
    fields: [
      { key: "mode", label: "Match", input: "select", options: MATCH },
      { key: "pattern", label: "Pattern", input: "text", placeholder: "/shop/product/*" },
    ],
    read: (a) => {
      const mode = Object.keys(a || {})[0];
      return MATCH.includes(mode) ? { mode, pattern: String(a[mode]) } : null;
    },
    write: (v) => ({ [v.mode || "glob"]: v.pattern }),
  };
}

export const CATALOGUE: Entry[] = [
  textMatch("url", "Page address"),
  {
    type: "viewed",
    label: "Viewed a product",
    fields: [{ key: "product", label: "Product (SKU)", input: "text", placeholder: "phone-x" }],
    read: (a) => (a && typeof a.product === "string" ? { product: a.product } : null),
    write: (v) => ({ product: v.product }),
  },
  {
    type: "form_dwell",
    label: "Time in a form",
    fields: [
      { key: "form", label: "Form (id or name)", input: "text", placeholder: "contract" },
      { key: "minutes", label: "At least (minutes)", input: "number" },
    ],
    read: (a) => (a && typeof a.form === "string" ? { form: a.form, minutes: minutes(a.gte) } : null),
    write: (v) => ({ form: v.form, gte: seconds(v.minutes) }),
  },
  {
    type: "time_on_page",
    label: "Time on the page",
    fields: [{ key: "minutes", label: "At least (minutes)", input: "number" }],
    read: (a) => (a && "gte" in a ? { minutes: minutes(a.gte) } : null),
    write: (v) => ({ gte: seconds(v.minutes) }),
  },
  {
    type: "time_on_site",
    label: "Time on the site",
    fields: [{ key: "minutes", label: "At least (minutes)", input: "number" }],
    read: (a) => (a && "gte" in a ? { minutes: minutes(a.gte) } : null),
    write: (v) => ({ gte: seconds(v.minutes) }),
  },
  {
    type: "pages_viewed",
    label: "Pages viewed",
    fields: [{ key: "n", label: "At least", input: "number" }],
    read: (a) => (a && "gte" in a ? { n: String(a.gte) } : null),
    write: (v) => ({ gte: num(v.n) }),
  },
  {
    type: "event",
    label: "An event happened",
    fields: [
      { key: "name", label: "Event", input: "text", placeholder: "checkout_code_failed" },
      { key: "within", label: "Within (seconds)", input: "number", optional: true },
    ],
    read: (a) =>
      a && typeof a.name === "string" && !a.props ? { name: a.name, within: a.within == null ? "" : String(a.within) } : null,
    write: (v) => (v.within ? { name: v.name, within: num(v.within) } : { name: v.name }),
  },
  {
    type: "attr",
    label: "Segment",
    fields: [{ key: "value", label: "Segment is", input: "text", placeholder: "gold" }],
    read: (a) => (a && a.name === "segment" && (a.op ?? "eq") === "eq" ? { value: String(a.value) } : null),
    write: (v) => ({ name: "segment", op: "eq", value: v.value }),
  },
  {
    type: "returning",
    label: "Returning visitor",
    fields: [{ key: "is", label: "Returning", input: "select", options: ["true", "false"] }],
    read: (a) => (typeof a === "boolean" ? { is: String(a) } : null),
    write: (v) => v.is !== "false",
  },
  {
    type: "device",
    label: "Device",
    fields: [{ key: "device", label: "Device", input: "select", options: ["desktop", "mobile", "tablet"] }],
    read: (a) => (typeof a === "string" ? { device: a } : null),
    write: (v) => v.device || "desktop",
  },
  {
    type: "language",
    label: "Language",
    fields: [{ key: "language", label: "Language", input: "text", placeholder: "de" }],
    read: (a) => (typeof a === "string" ? { language: a } : null),
    write: (v) => v.language,
  },
  textMatch("referrer", "Came from"),
  {
    type: "agent_free",
    label: "An agent with a skill is free",
    fields: [{ key: "skill", label: "Skill (empty: any)", input: "text", placeholder: "Sales", optional: true }],
    read: (a) => (a && Object.keys(a).every((k) => k === "skill") ? { skill: a.skill ?? "" } : null),
    write: (v) => (v.skill ? { skill: v.skill } : {}),
  },
  {
    type: "queue_wait",
    label: "Estimated wait under",
    fields: [
      { key: "skill", label: "Skill", input: "text", placeholder: "Sales", optional: true },
      { key: "lt", label: "Seconds", input: "number" },
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
  if (!value.trim()) return f.optional ? null : "required";
  if (f.input === "number" && (!Number.isFinite(Number(value)) || Number(value) < 0)) return "a number, 0 or more";
  return null;
}
