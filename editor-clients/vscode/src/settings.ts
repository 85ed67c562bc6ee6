/**
 * The mapping from VS Code settings (`pairline.*`) to what the server reads as
 * `initializationOptions` and `workspace/didChangeConfiguration`. No `vscode` import here, so the
 * protocol tests can send exactly what the extension sends.
 */

import * as os from "node:os";

/** Reads one setting under `pairline.`; `undefined` when it is not declared. */
export type SettingReader = (key: string) => unknown;

/** The settings as the server receives them: its sections, in camelCase. */
export type ServerSettings = Record<string, unknown>;

/**
 * Keys under `pairline.` that only the extension reads (how to start the server, the toggle of
 * inline completions); everything else belongs to the server.
 */
export const CLIENT_ONLY: readonly string[] = ["server", "completions"];

/** Settings whose change needs a new server process rather than a notification. */
export const RESTART_SECTIONS = ["pairline.server"] as const;

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? os.homedir() + path.slice(1) : path;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pick<T>(read: SettingReader, key: string, fallback: T): T {
  const value = read(key);
  return typeof value === typeof fallback ? (value as T) : fallback;
}

/**
 * The settings object the server receives: the whole `pairline` section (VS Code's defaults from
 * package.json with the user's values over them) less the extension's own keys. Values go as
 * the user wrote them: the server checks them, reports what is wrong and keeps that section's
 * defaults. Check commands run workspace code: they are trusted only when the user says so and
 * VS Code trusts the workspace.
 */
export function serverSettings(section: unknown, workspaceTrusted = true): ServerSettings {
  const out: ServerSettings = {};
  for (const [key, value] of Object.entries(isObject(section) ? section : {})) {
    if (!CLIENT_ONLY.includes(key)) {
      out[key] = value;
    }
  }
  const { model, actions, cacheDir } = out;
  if (isObject(model) && typeof model.name === "string") {
    out.model = { ...model, name: expandHome(model.name) };
  }
  if (isObject(actions) && !workspaceTrusted) {
    out.actions = { ...actions, trusted: false };
  }
  if (typeof cacheDir === "string") {
    out.cacheDir = expandHome(cacheDir);
  }
  return out;
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
