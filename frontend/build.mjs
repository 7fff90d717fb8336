// Bundles the loader (host page), the widget frame and the console into src/tresen/static/build.
//
// Everything but the loader gets a content hash in its name (served with a year of immutable
// caching; manifest.json maps the plain names to them for the server's HTML). The loader keeps
// its name, `widget.js`: sites embed that URL. Every file is also written precompressed
// (`.br`, `.gz`) so the server never compresses on the fly.
import * as esbuild from "esbuild";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";

const out = new URL("../src/tresen/static/build/", import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["es2019"],
  jsx: "automatic",
  jsxImportSource: "preact",
  logLevel: "warning",
  metafile: true,
};

const manifest = {};

/** Build one entry under a hashed name; record it (and its CSS) in the manifest. */
async function hashed(entry, name) {
  const result = await esbuild.build({
    ...common,
    entryPoints: { [name]: entry },
    outdir: out,
    entryNames: "[name]-[hash]",
    format: "iife",
  });
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    if (!meta.entryPoint && !meta.cssBundle && !file.endsWith(".css")) continue;
    const ext = file.endsWith(".css") ? ".css" : ".js";
    manifest[name + ext] = basename(file);
  }
}

// Loaded into the host page by the loader only after the visitor agreed to co-browse.
await hashed("src/cobrowse/recorder.ts", "cobrowse-recorder");
// The frame's core (session, socket, launcher) and the chat UI it loads on demand.
await hashed("src/widget/core.ts", "widget-core");
await hashed("src/widget/index.tsx", "widget-frame");
await hashed("src/console/index.tsx", "console");
// The loader last: it names the recorder's hashed file.
await esbuild.build({
  ...common,
  entryPoints: ["src/loader/index.ts"],
  outfile: out + "widget.js",
  format: "iife",
  define: { __RECORDER__: JSON.stringify(manifest["cobrowse-recorder.js"]) },
});
writeFileSync(out + "manifest.json", JSON.stringify(manifest, null, 2) + "\n");

const files = ["widget.js", ...Object.values(manifest)];
for (const f of files) {
  const raw = readFileSync(out + f);
  writeFileSync(out + f + ".gz", gzipSync(raw, { level: 9 }));
  writeFileSync(
    out + f + ".br",
    brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
}

for (const f of files) {
  const size = readFileSync(out + f).length;
  const br = readFileSync(out + f + ".br").length;
  console.log(`${f}: ${size} bytes, ${br} bytes brotli`);
}
const loaderBr = readFileSync(out + "widget.js.br").length;
console.log(`loader widget.js over the wire: ${loaderBr} bytes (budget 10240)`);
