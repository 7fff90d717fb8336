// Build a rule's condition without typing JSON: groups (all / any / none) of conditions picked
// from the catalogue, each with its own inputs. Edits the JSON tree; faults show at the field.
import { CATALOGUE, ENTRY, blank, fieldError, fromJson, toJson } from "./ruleCatalogue";
import type { Json, Node } from "./ruleCatalogue";
import { lang, t, type Key } from "../i18n";

const OPS: Record<"all" | "any" | "none", Key> = { all: "rb.all", any: "rb.any", none: "rb.none" };

/** The server's words about a field, in English only (elsewhere: "not valid"). */
const fault = (text: string) => (lang() === "en" ? text : t("err.invalid"));

interface Props {
  when: string;
  onChange: (when: string) => void;
  /** The server's fault, e.g. "when.all[0].any[1].form_dwell.gte: ...", shown at its node. */
  serverError: string;
}

export function RuleBuilder({ when, onChange, serverError }: Props) {
  let tree: Node;
  try {
    tree = fromJson(JSON.parse(when) as Json);
  } catch {
    return <p class="builder-note">{t("rb.badJson")}</p>;
  }
  if (tree.kind !== "group") tree = { kind: "group", op: "all", children: [tree] };
  const root = tree;
  const commit = (next: Node) => onChange(JSON.stringify(toJson(next), null, 2));
  return (
    <div class="rule-builder" data-testid="rule-builder">
      <GroupView node={root} path="when" onChange={commit} serverError={serverError} />
    </div>
  );
}

function GroupView({
  node,
  path,
  onChange,
  onRemove,
  serverError,
}: {
  node: Extract<Node, { kind: "group" }>;
  path: string;
  onChange: (n: Node) => void;
  onRemove?: () => void;
  serverError: string;
}) {
  const set = (children: Node[]) => onChange({ ...node, children });
  const childPath = (i: number) =>
    node.op === "none" ? (node.children.length === 1 ? `${path}.not` : `${path}.not.any[${i}]`) : `${path}.${node.op}[${i}]`;
  function add(e: Event) {
    const type = (e.currentTarget as HTMLSelectElement).value;
    (e.currentTarget as HTMLSelectElement).value = "";
    if (type === "group") set([...node.children, { kind: "group", op: "any", children: [] }]);
    else if (type) set([...node.children, blank(type)]);
  }
  return (
    <div class="cond-group" data-op={node.op}>
      <div class="row">
        <label>
          {t("rb.match")}{" "}
          <select name="group-op" value={node.op} onChange={(e) => onChange({ ...node, op: e.currentTarget.value as typeof node.op })}>
            {Object.entries(OPS).map(([op, label]) => (
              <option key={op} value={op}>{t(label)}</option>
            ))}
          </select>
        </label>
        <select name="add-condition" aria-label={t("rb.add")} onChange={add}>
          <option value="">{t("rb.addOption")}</option>
          {CATALOGUE.map((e) => (
            <option key={e.type} value={e.type}>{t(e.label)}</option>
          ))}
          <option value="group">{t("rb.addGroup")}</option>
        </select>
        {onRemove && <button type="button" class="remove" onClick={onRemove} aria-label={t("rb.removeGroup")}>{t("rb.removeGroup")}</button>}
      </div>
      {node.children.length === 0 && <p class="builder-note">{t("rb.empty")}</p>}
      {serverError.startsWith(path + ":") && (
        <span class="field-error" role="alert">{fault(serverError.slice(path.length + 1).trim())}</span>
      )}
      <ul>
        {node.children.map((child, i) => {
          const change = (n: Node) => set(node.children.map((c, j) => (j === i ? n : c)));
          const remove = () => set(node.children.filter((_, j) => j !== i));
          return (
            <li key={i}>
              {child.kind === "group" ? (
                <GroupView node={child} path={childPath(i)} onChange={change} onRemove={remove} serverError={serverError} />
              ) : (
                <LeafView node={child} path={childPath(i)} onChange={change} onRemove={remove} serverError={serverError} />
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function LeafView({
  node,
  path,
  onChange,
  onRemove,
  serverError,
}: {
  node: Exclude<Node, { kind: "group" }>;
  path: string;
  onChange: (n: Node) => void;
  onRemove: () => void;
  serverError: string;
}) {
  const here = serverError.startsWith(path + ".") || serverError.startsWith(path + ":") ? serverError.slice(serverError.indexOf(":") + 1).trim() : "";
  if (node.kind === "raw") {
    return (
      <div class="cond-leaf raw">
        <code>{JSON.stringify(node.json)}</code> <span class="builder-note">{t("rb.editJson")}</span>
        <button type="button" class="remove" onClick={onRemove}>{t("rb.remove")}</button>
        {here && <span class="field-error" role="alert">{fault(here)}</span>}
      </div>
    );
  }
  const entry = ENTRY[node.type];
  return (
    <div class="cond-leaf" data-type={node.type}>
      <strong>{t(entry.label)}</strong>
      {entry.fields.map((f) => {
        const value = node.values[f.key] ?? "";
        const bad = fieldError(f, value);
        const set = (v: string) => onChange({ ...node, values: { ...node.values, [f.key]: v } });
        return (
          <label key={f.key} class={bad ? "invalid" : ""}>
            {t(f.label)}{" "}
            {f.input === "select" ? (
              <select name={`${node.type}-${f.key}`} value={value} onChange={(e) => set(e.currentTarget.value)}>
                {f.options!.map((o) => (
                  <option key={o} value={o}>{t(`rc.opt.${o}` as Key)}</option>
                ))}
              </select>
            ) : (
              <input
                name={`${node.type}-${f.key}`}
                type={f.input === "number" ? "number" : "text"}
                min={f.input === "number" ? 0 : undefined}
                step="any"
                value={value}
                placeholder={f.placeholder}
                aria-invalid={bad ? "true" : undefined}
                onInput={(e) => set(e.currentTarget.value)}
              />
            )}
            {bad && <span class="field-error" data-field-error={f.key}>{bad}</span>}
          </label>
        );
      })}
      <button type="button" class="remove" onClick={onRemove} aria-label={t("rb.removeX", { what: t(entry.label) })}>{t("rb.remove")}</button>
      {here && <span class="field-error" role="alert">{fault(here)}</span>}
    </div>
  );
}
