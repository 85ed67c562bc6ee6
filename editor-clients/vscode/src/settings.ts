/**
 * The mapping from VS Code settings (`pairline.*`) to what the server reads as
 * `initializationOptions` and `workspace/didChangeConfiguration`. No `vscode` import here, so the
 * protocol tests can send exactly what the extension sends.
 */

import * as os from "node:os";

/** Reads one setting under `pairline.`; `undefined` when it is not declared. */
export type SettingReader = (key: string) => unknown;

export type ServerSettings = {
  model: { name: string; nCtx: number; nThreads: number; nBatch: number; nGpuLayers: number };
  completion: {
    maxTokens: number;
    maxBlockTokens: number;
    maxBlockLines: number;
    promptTokens: number;
    suffixLines: number;
    enable: Record<string, boolean>;
    recordStats: boolean;
    tokenHealing: boolean;
    minConfidence: number;
  };
  remote: { baseUrl: string; api: string; model: string; apiKeyEnv: string; promptStyle: string };
  actions: {
    backend: Record<string, string>;
    trusted: boolean;
    checkCommands: Record<string, string>;
    testDiagnostics: boolean;
    rounds: number;
    candidates: number;
    budgetS: number;
    temperature: number;
    baselineFeedback: boolean;
    smallEdits: boolean;
    warmChecks: boolean;
    faultLocalisation: boolean;
    offerUnverified: boolean;
  };
  context: { retrieval: boolean; recentEdits: boolean };
  nextEdit: { enable: boolean; model: string; minConfidence: number; maxEdits: number };
  cacheDir: string;
};

/** Defaults, the same as the server's own (and as package.json declares). */
export const DEFAULTS: ServerSettings = {
  model: { name: "gemma3-270m", nCtx: 1536, nThreads: 0, nBatch: 256, nGpuLayers: 0 },
  completion: {
    maxTokens: 48,
    maxBlockTokens: 128,
    maxBlockLines: 8,
    promptTokens: 512,
    suffixLines: 20,
    enable: { "*": true, plaintext: false, markdown: false },
    recordStats: true,
    tokenHealing: true,
    minConfidence: 0.5,
  },
  remote: { baseUrl: "", api: "openai", model: "", apiKeyEnv: "", promptStyle: "chat" },
  actions: {
    backend: { "*": "auto" },
    trusted: false,
    checkCommands: {},
    testDiagnostics: false,
    rounds: 3,
    candidates: 8,
    budgetS: 60,
    temperature: 0.8,
    baselineFeedback: false,
    smallEdits: true,
    warmChecks: true,
    faultLocalisation: false,
    offerUnverified: false,
  },
  context: { retrieval: false, recentEdits: false },
  nextEdit: { enable: true, model: "off", minConfidence: 0.5, maxEdits: 3 },
  cacheDir: "",
};

/** Settings whose change needs a new server process rather than a notification. */
export const RESTART_SECTIONS = ["pairline.server"] as const;

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? os.homedir() + path.slice(1) : path;
}

function pick<T>(read: SettingReader, key: string, fallback: T): T {
  const value = read(key);
  if (value === undefined || value === null) {
    return fallback;
  }
  if (typeof fallback === "object") {
    return typeof value === "object" && !Array.isArray(value) ? (value as T) : fallback;
  }
  return typeof value === typeof fallback ? (value as T) : fallback;
}

function section<T extends object>(read: SettingReader, prefix: string, defaults: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, fallback] of Object.entries(defaults)) {
    out[key] = pick(read, `${prefix}.${key}`, fallback);
  }
  return out as T;
}

/**
 * The settings object the server receives, in its own (camelCase) layout. Check commands run
 * workspace code: they are trusted only when the user says so and VS Code trusts the workspace.
 */
export function serverSettings(read: SettingReader, workspaceTrusted = true): ServerSettings {
  const model = section(read, "model", DEFAULTS.model);
  const actions = section(read, "actions", DEFAULTS.actions);
  return {
    model: { ...model, name: expandHome(model.name) },
    completion: section(read, "completion", DEFAULTS.completion),
    remote: section(read, "remote", DEFAULTS.remote),
    actions: { ...actions, trusted: actions.trusted && workspaceTrusted },
    context: section(read, "context", DEFAULTS.context),
    nextEdit: section(read, "nextEdit", DEFAULTS.nextEdit),
    cacheDir: expandHome(pick(read, "cacheDir", DEFAULTS.cacheDir)),
  };
}

export type ServerCommand = { command: string; args: string[] };

/** Extra pip arguments for setting up the managed server (`pairline.server.installArgs`). */
export function installArgs(read: SettingReader): string[] {
  const value = read("server.installArgs");
  return Array.isArray(value) ? value.filter((arg): arg is string => typeof arg === "string") : [];
}

/**
 * How to start the server: `python -m pairline serve` when an interpreter is configured,
 * otherwise the configured executable or `pairline` on PATH.
 */
export function serverCommand(read: SettingReader): ServerCommand {
  const python = pick(read, "server.pythonPath", "").trim();
  if (python) {
    return { command: expandHome(python), args: ["-m", "pairline", "serve"] };
  }
  const path = pick(read, "server.path", "").trim();
  return { command: path ? expandHome(path) : "pairline", args: ["serve"] };
}
