// Bundles each widget entry point into src/errlens/static/<name>.js (+ .css), one ES module each.
import * as esbuild from "esbuild";

const entries = { summary: "src/summary/index.js" };

await esbuild.build({
  entryPoints: entries,
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020"],
  outdir: "../src/errlens/static",
  logLevel: "info",
});
