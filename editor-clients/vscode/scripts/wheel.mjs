// Builds the pairline wheel from this repository into server-wheel/, which the .vsix carries and
// the extension installs into its managed virtualenv. The Python that builds it: PAIRLINE_BUILD_PYTHON,
// else python3 (python on Windows); it needs pip, and pip fetches hatchling for the build.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const here = path.dirname(new URL(import.meta.url).pathname);
const extension = path.resolve(here, "..");
const repository = path.resolve(extension, "..", "..");
const out = path.join(extension, "server-wheel");
const python = process.env.PAIRLINE_BUILD_PYTHON || (process.platform === "win32" ? "python" : "python3");

// Only the wheel of this build: the extension installs whichever pairline wheel it finds.
fs.rmSync(out, { recursive: true, force: true });
execFileSync(python, ["-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check", repository, "-w", out], {
  stdio: "inherit",
});
const wheels = fs.readdirSync(out).filter((name) => /^pairline-.*\.whl$/.test(name));
if (wheels.length !== 1) {
  throw new Error(`expected one pairline wheel in ${out}, found: ${wheels.join(", ") || "none"}`);
}
console.log(`server wheel: ${path.join("server-wheel", wheels[0])}`);
