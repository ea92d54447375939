// Bundles every widget entry point js/src/<name>/index.js into src/errlens/static/<name>.js
// (+ <name>.css when it imports CSS): one self-contained ES module per widget.
import { readdirSync, existsSync } from "node:fs";
import * as esbuild from "esbuild";

const entries = Object.fromEntries(
  readdirSync("src", { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`src/${d.name}/index.js`))
    .map((d) => [d.name, `src/${d.name}/index.js`]),
);

await esbuild.build({
  entryPoints: entries,
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020"],
  outdir: "../src/errlens/static",
  logLevel: "warning",
});
console.log(`built ${Object.keys(entries).join(", ")} into src/errlens/static/`);
