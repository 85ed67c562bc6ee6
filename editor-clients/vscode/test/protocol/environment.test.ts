/**
 * The set-up's environment helpers in plain Node, on this machine's real Python and processes:
 * finding a Python and checking its version, the bundled wheel's version, which pip lines are
 * shown as progress, and that cancelling stops a command with everything it started.
 */

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";

import {
  bundledWheel,
  buildsLlamaCpp,
  findPython,
  missingToolsMessage,
  noPythonMessage,
  progressLine,
  runLines,
  supportedPython,
} from "../../src/environment";

const PYTHON = process.env.PAIRLINE_PYTHON ?? "python3";

describe("set-up environment", () => {
  test("finds a real Python 3.11+ and says why others were passed over", async () => {
    const missing = path.join(os.tmpdir(), "no-such-dir", "python3");
    const { python, rejected } = await findPython([missing, PYTHON]);
    assert.ok(python, `no Python found; tried ${rejected.join("; ")}`);
    assert.ok(supportedPython(python.version));
    assert.ok(fs.existsSync(python.executable));
    assert.deepEqual(rejected, [`${missing}: not found`]);
    const none = await findPython([missing]);
    assert.equal(none.python, undefined);
    assert.match(noPythonMessage(none.rejected, "linux"), /needs Python 3\.11 or newer.*no-such-dir.*apt install python3/);
  });

  test("compares versions by number", () => {
    assert.ok(supportedPython("3.11.0") && supportedPython("3.13.1") && supportedPython("4.0.0"));
    assert.ok(!supportedPython("3.10.12") && !supportedPython("3.9.18") && !supportedPython("2.7.18"));
  });

  test("the bundled wheel's version comes from its file name", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pairline-ext-"));
    assert.equal(bundledWheel(dir), undefined);
    fs.mkdirSync(path.join(dir, "server-wheel"));
    fs.writeFileSync(path.join(dir, "server-wheel", "pairline-0.2.0-py3-none-any.whl"), "");
    assert.deepEqual(bundledWheel(dir), { file: path.join(dir, "server-wheel", "pairline-0.2.0-py3-none-any.whl"), version: "0.2.0" });
    fs.rmSync(dir, { recursive: true });
  });

  test("pip's progress lines are shown, its chatter is not", () => {
    assert.equal(progressLine("Collecting pygls>=2.1 (from pairline==0.1.0)"), "Collecting pygls>=2.1 (from pairline==0.1.0)");
    assert.equal(progressLine("  [ 42%] Building C object vendor/llama.cpp/ggml.c.o"), "[ 42%] Building C object vendor/llama.cpp/ggml.c.o");
    assert.equal(progressLine("[12/80] Building CXX object llama.cpp.o"), "[12/80] Building CXX object llama.cpp.o");
    assert.equal(progressLine("WARNING: Location 'file:///x' is ignored"), undefined);
    assert.ok(buildsLlamaCpp("Building wheel for llama-cpp-python (pyproject.toml): started"));
    assert.match(missingToolsMessage(["a C/C++ compiler", "CMake"], "darwin"), /xcode-select --install.*brew install cmake/);
  });

  test("runLines streams lines and kill stops the command and its children", async () => {
    const lines: string[] = [];
    const script =
      "import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); print(child.pid, flush=True); time.sleep(60)";
    const running = runLines(PYTHON, ["-c", script], (line) => lines.push(line));
    while (lines.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    running.kill();
    const { code, tail } = await running.done;
    assert.notEqual(code, 0);
    assert.deepEqual(tail, lines);
    // The grandchild (as CMake and the compilers are to pip) is stopped too.
    const grandchild = Number(lines[0]);
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      try {
        process.kill(grandchild, 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, `process ${grandchild} still runs`);
  });
});
