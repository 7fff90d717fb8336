// Finds text in the console's source that an agent would read but that does not go through the
// translation catalogues (src/console/lang): JSX text, the texts of user-facing attributes
// (placeholder, aria-label, title, alt, label), string literals shown from a JSX expression, and
// literals handed to flash/confirm/alert/set…Message-style calls, and a server's `.message` shown
// as it came (errors go through errorText(), which maps their codes to translated texts). A line holding `i18n-ignore`
// is skipped (brand names, symbols). Prints one line per finding and exits 1 if there is any.
//
//   node scripts/check-i18n.mjs [dir]      (default: src/console)
import ts from "typescript";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const dir = process.argv[2] ?? join(root, "src/console");

const UI_ATTRS = new Set(["placeholder", "aria-label", "title", "alt", "label", "aria-description", "aria-roledescription"]);
// Calls whose string argument is shown to the agent.
const UI_CALLS = /^(flash|confirm|alert|prompt|setMsg|setMessage|setError|setInfo|setNotice|setStatus|setDone|setResult|say)$/;
const WORDS = /[A-Za-zÀ-ÿ]{2,}/;

function files(d) {
  const out = [];
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) {
      if (name !== "lang") out.push(...files(p));
    } else if (/\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

/** The literal text parts of a string or template expression (null if it is not one). */
function literalText(node) {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(" ");
  return null;
}

/** Literals an expression can evaluate to directly: `a ? "x" : "y"`, `a || "x"`, `a && "x"`, ("x"). */
function shownLiterals(node) {
  if (!node) return [];
  if (ts.isParenthesizedExpression(node)) return shownLiterals(node.expression);
  if (ts.isConditionalExpression(node)) return [...shownLiterals(node.whenTrue), ...shownLiterals(node.whenFalse)];
  if (ts.isBinaryExpression(node)) {
    const op = node.operatorToken.kind;
    if (op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken || op === ts.SyntaxKind.AmpersandAmpersandToken)
      return [...shownLiterals(node.left), ...shownLiterals(node.right)];
    if (op === ts.SyntaxKind.PlusToken) return [...shownLiterals(node.left), ...shownLiterals(node.right)];
    return [];
  }
  // The server's English words (`e.message`, `frame.message`): shown through errorText() instead.
  if (ts.isPropertyAccessExpression(node) && node.name.text === "message") return [[node, "server message: " + node.getText()]];
  const text = literalText(node);
  return text !== null ? [[node, text]] : [];
}

function calleeName(call) {
  const e = call.expression;
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return "";
}

const findings = [];
for (const file of files(dir)) {
  const src = readFileSync(file, "utf8");
  const lines = src.split("\n");
  const sf = ts.createSourceFile(file, src, ts.ScriptTarget.Latest, true, file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const report = (node, text) => {
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    if (lines[line].includes("i18n-ignore")) return;
    if (!WORDS.test(text)) return;
    findings.push(`${relative(root, file)}:${line + 1}: ${JSON.stringify(text.trim().slice(0, 80))}`);
  };
  const visit = (node) => {
    if (ts.isJsxText(node)) {
      report(node, node.text);
    } else if (ts.isJsxAttribute(node)) {
      const name = node.name.getText(sf);
      const init = node.initializer;
      if (UI_ATTRS.has(name) && init) {
        if (ts.isStringLiteral(init)) report(init, init.text);
        else if (ts.isJsxExpression(init)) for (const [n, t] of shownLiterals(init.expression)) report(n, t);
      }
      return; // other attributes (class, href, data-*) are not read as text
    } else if (ts.isJsxExpression(node) && node.parent && !ts.isJsxAttribute(node.parent)) {
      for (const [n, t] of shownLiterals(node.expression)) report(n, t);
    } else if (ts.isCallExpression(node) && UI_CALLS.test(calleeName(node))) {
      for (const arg of node.arguments) for (const [n, t] of shownLiterals(arg)) report(n, t);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

for (const f of findings) console.log(f);
if (findings.length) {
  console.error(`${findings.length} untranslated text(s): put them in src/console/lang and use t().`);
  process.exit(1);
}
