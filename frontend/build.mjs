// Bundles the loader (host page), the widget frame and the console into src/tresen/static/build.
import * as esbuild from "esbuild";
import { gzipSync } from "node:zlib";
import { readFileSync, mkdirSync } from "node:fs";

const out = new URL("../src/tresen/static/build/", import.meta.url).pathname;
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["es2019"],
  jsx: "automatic",
  jsxImportSource: "preact",
  logLevel: "warning",
};

const entries = [
  { in: "src/loader/index.ts", out: "widget.js", format: "iife" },
  { in: "src/widget/index.tsx", out: "widget-frame.js", format: "iife" },
  { in: "src/console/index.tsx", out: "console.js", format: "iife" },
  // Loaded into the host page by the loader only after the visitor agreed to co-browse.
  { in: "src/cobrowse/recorder.ts", out: "cobrowse-recorder.js", format: "iife" },
];

for (const e of entries) {
  await esbuild.build({ ...common, entryPoints: [e.in], outfile: out + e.out, format: e.format });
}

const loader = readFileSync(out + "widget.js");
const gz = gzipSync(loader, { level: 9 }).length;
console.log(`loader widget.js: ${loader.length} bytes, ${gz} bytes gzipped (budget 10240)`);
for (const e of entries.slice(1)) {
  const size = readFileSync(out + e.out).length;
  console.log(`${e.out}: ${size} bytes`);
}
