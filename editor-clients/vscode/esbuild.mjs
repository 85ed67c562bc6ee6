// Bundles the extension (and, with --tests, the protocol tests) into out/.
import { build } from "esbuild";

const production = process.argv.includes("--production");
const tests = process.argv.includes("--tests");

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: !production,
  minify: production,
  logLevel: "warning",
};

await build({
  ...common,
  entryPoints: ["src/extension.ts"],
  outfile: "out/extension.js",
  // Provided by VS Code at run time.
  external: ["vscode"],
});

if (tests) {
  await build({
    ...common,
    entryPoints: ["test/protocol/protocol.test.ts", "test/protocol/environment.test.ts"],
    outdir: "out/test",
  });
}
