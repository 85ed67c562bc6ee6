/**
 * The managed server environment without the UI: finding a Python and the build tools, the
 * virtualenv's layout, the bundled wheel, and running pip with its output line by line. No
 * `vscode` import, so it can be tested in plain Node.
 */

import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** The oldest Python the server supports (pyproject.toml's requires-python). */
export const MIN_PYTHON = [3, 11] as const;

const windows = process.platform === "win32";

/** The first executable called `name` on PATH (with PATHEXT on Windows), if any. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env.PATH ?? env.Path ?? "").split(path.delimiter).filter(Boolean);
  const exts = windows ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) {
          return candidate;
        }
      } catch {
        // Not here: try the next folder.
      }
    }
  }
  return undefined;
}

export type Python = { command: string; executable: string; version: string };

/** Runs `command` to learn its version and real executable (not a pyenv shim); undefined when it does not run. */
export function probePython(command: string): Promise<Python | undefined> {
  const code = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)";
  return new Promise((resolve) => {
    execFile(command, ["-c", code], { timeout: 30_000, windowsHide: true }, (error, stdout) => {
      const [version, executable] = stdout.trim().split(/\r?\n/);
      resolve(error || !version || !executable ? undefined : { command, executable, version });
    });
  });
}

export function supportedPython(version: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

/**
 * The first of `candidates` (interpreter paths or names on PATH) that runs and is new enough;
 * `rejected` says what was tried and why it did not fit, for the error message.
 */
export async function findPython(candidates: readonly string[]): Promise<{ python?: Python; rejected: string[] }> {
  const rejected: string[] = [];
  for (const candidate of candidates) {
    const python = await probePython(candidate);
    if (!python) {
      rejected.push(`${candidate}: not found`);
    } else if (!supportedPython(python.version)) {
      rejected.push(`${candidate}: Python ${python.version}`);
    } else {
      return { python, rejected };
    }
  }
  return { rejected };
}

/** The names a Python goes by on PATH, most specific first. */
export const PATH_PYTHONS: readonly string[] = windows ? ["python", "python3"] : ["python3", "python"];

export function noPythonMessage(rejected: readonly string[], platform = process.platform): string {
  const install =
    platform === "win32"
      ? "install Python 3.11 or newer from python.org or with `winget install Python.Python.3.12`"
      : platform === "darwin"
        ? "install Python 3.11 or newer with `brew install python@3.12` or from python.org"
        : "install Python 3.11 or newer with your package manager (e.g. `sudo apt install python3 python3-venv`) or from python.org";
  const tried = rejected.length ? ` (tried ${rejected.join("; ")})` : "";
  return (
    `pairline needs Python ${MIN_PYTHON.join(".")} or newer to set up its server and found none${tried}. ` +
    `To fix it, ${install}, or select one with the Python extension or the setting "pairline.server.setupPython", then run "pairline: Set Up Server".`
  );
}

/** What is missing to build llama.cpp from source here: "a C/C++ compiler", "CMake". */
export function missingBuildTools(env: NodeJS.ProcessEnv = process.env): string[] {
  const missing: string[] = [];
  const has = (...names: string[]): boolean => names.some((name) => findOnPath(name, env) !== undefined);
  if (windows) {
    // MSVC is rarely on PATH; scikit-build finds it through vswhere.
    const vswhere = path.join(env["ProgramFiles(x86)"] ?? "C:\\Program Files (x86)", "Microsoft Visual Studio", "Installer", "vswhere.exe");
    if (!has("cl") && !fs.existsSync(vswhere)) {
      missing.push("a C/C++ compiler");
    }
  } else if (!has("cc", "gcc", "clang") || !has("c++", "g++", "clang++")) {
    missing.push("a C/C++ compiler");
  }
  if (!has("cmake")) {
    missing.push("CMake");
  }
  return missing;
}

export function missingToolsMessage(missing: readonly string[], platform = process.platform): string {
  const install =
    platform === "win32"
      ? 'install Visual Studio Build Tools with "Desktop development with C++" (it includes CMake)'
      : platform === "darwin"
        ? "run `xcode-select --install` (compiler) and `brew install cmake`"
        : "install them with your package manager, e.g. `sudo apt install build-essential cmake` (Debian, Ubuntu) or `sudo dnf install gcc-c++ cmake` (Fedora)";
  return (
    `pairline's server builds llama.cpp from source, which needs ${missing.join(" and ")}: none was found on PATH. ` +
    `To fix it, ${install}, then run "pairline: Set Up Server". ` +
    'Prebuilt llama-cpp-python wheels can be given to pip instead with the setting "pairline.server.installArgs".'
  );
}

/** The interpreter inside a virtualenv. */
export function venvPython(venv: string): string {
  return windows ? path.join(venv, "Scripts", "python.exe") : path.join(venv, "bin", "python");
}

export type Wheel = { file: string; version: string };

/** The pairline wheel shipped in the extension's `server-wheel` folder. */
export function bundledWheel(extensionDir: string): Wheel | undefined {
  const dir = path.join(extensionDir, "server-wheel");
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    // Wheel names are `{name}-{version}-{python}-{abi}-{platform}.whl`.
    const match = /^pairline-([^-]+)-.*\.whl$/.exec(name);
    if (match?.[1]) {
      return { file: path.join(dir, name), version: match[1] };
    }
  }
  return undefined;
}

/** A pip line worth showing as progress (the rest goes to the log only). */
export function progressLine(line: string): string | undefined {
  const text = line.trim();
  if (/^(Collecting|Downloading|Using cached|Building wheel|Created wheel|Installing collected|Successfully|Processing|Looking in)\b/.test(text)) {
    return text;
  }
  // CMake / Ninja steps while llama.cpp compiles: "[ 42%] Building C object …", "[12/80] …".
  if (/^\[\s*\d+(%|\/\d+)\]/.test(text)) {
    return text.length > 120 ? `${text.slice(0, 117)}…` : text;
  }
  return undefined;
}

/** The llama.cpp build has started: pip is building llama-cpp-python from source. */
export function buildsLlamaCpp(line: string): boolean {
  return /Building wheel for llama[-_]cpp[-_]python/i.test(line);
}

export type Running = { done: Promise<{ code: number | null; tail: string[] }>; kill(): void };

/**
 * Runs a command, calling `onLine` for each line of its output (pip ends progress lines with
 * `\r`). `kill` stops it and every process it started (pip runs CMake, which runs compilers).
 */
export function runLines(command: string, args: readonly string[], onLine: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Running {
  const child = spawn(command, args, { env, detached: !windows, windowsHide: true, stdio: ["ignore", "pipe", "pipe"] });
  const tail: string[] = [];
  const feed = (stream: NodeJS.ReadableStream): void => {
    let pending = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const parts = (pending + chunk).split(/\r\n|\r|\n/);
      pending = parts.pop() ?? "";
      for (const line of parts) {
        if (line.trim()) {
          tail.push(line);
          if (tail.length > 40) {
            tail.shift();
          }
          onLine(line);
        }
      }
    });
  };
  feed(child.stdout);
  feed(child.stderr);
  const done = new Promise<{ code: number | null; tail: string[] }>((resolve) => {
    child.once("error", (error) => {
      tail.push(error.message);
      resolve({ code: null, tail });
    });
    child.once("close", (code) => {
      resolve({ code, tail });
    });
  });
  const kill = (): void => {
    if (child.pid === undefined || child.exitCode !== null) {
      return;
    }
    try {
      if (windows) {
        spawn("taskkill", ["/pid", String(child.pid), "/T", "/F"], { windowsHide: true });
      } else {
        process.kill(-child.pid, "SIGTERM");
      }
    } catch {
      // Already gone.
    }
  };
  return { done, kill };
}
