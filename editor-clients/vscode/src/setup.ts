/**
 * The managed server: a virtualenv in the extension's global storage with the pairline wheel
 * the `.vsix` carries. Offered once when no server is configured or on PATH, set up or reinstalled
 * by command, upgraded when the bundled wheel's version changes; always with a cancellable
 * progress notification, and never left half-installed.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";

import {
  PATH_PYTHONS,
  bundledWheel,
  buildsLlamaCpp,
  findOnPath,
  findPython,
  missingBuildTools,
  missingToolsMessage,
  noPythonMessage,
  progressLine,
  runLines,
  venvPython,
  type Python,
} from "./environment";
import { installArgs, serverCommand, type ServerCommand, type SettingReader } from "./settings";
import type { StatusBar } from "./status";

/** globalState: the pairline version installed in the managed virtualenv. */
const INSTALLED = "pairline.server.installedVersion";
/** globalState: the set-up offer was answered (or dismissed): it is not shown again. */
const OFFERED = "pairline.server.setupOffered";
const SET_UP = "Set Up";

type Mode = "setup" | "reinstall" | "upgrade";

class SetupError extends Error {}
class Cancelled extends Error {}

/** The interpreter selected in the Python extension, when that extension is installed. */
async function pythonExtensionInterpreter(): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension("ms-python.python");
  if (!extension) {
    return undefined;
  }
  try {
    const api = (extension.isActive ? extension.exports : await extension.activate()) as {
      environments?: { getActiveEnvironmentPath?: () => { path?: string } | undefined };
      settings?: { getExecutionDetails?: () => { execCommand?: string[] } | undefined };
    } | undefined;
    return api?.environments?.getActiveEnvironmentPath?.()?.path ?? api?.settings?.getExecutionDetails?.()?.execCommand?.[0];
  } catch {
    return undefined;
  }
}

export class ServerSetup {
  private busy: Promise<boolean> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly status: StatusBar,
  ) {}

  private get venv(): string {
    return path.join(this.context.globalStorageUri.fsPath, "venv");
  }

  /** `python -m pairline serve` from the managed virtualenv, when it is set up. */
  managed(): ServerCommand | undefined {
    const python = venvPython(this.venv);
    return this.context.globalState.get<string>(INSTALLED) && fs.existsSync(python)
      ? { command: python, args: ["-m", "pairline", "serve"] }
      : undefined;
  }

  /**
   * The server to start: the configured one; else the managed one (upgraded first when the
   * bundled wheel is newer); else `pairline` on PATH; else, the first time, the set-up offer.
   * Undefined when there is none.
   */
  async resolve(read: SettingReader): Promise<ServerCommand | undefined> {
    const configured = [read("server.pythonPath"), read("server.path")].some((value) => typeof value === "string" && value.trim());
    if (configured) {
      return serverCommand(read);
    }
    if (this.managed()) {
      const wheel = bundledWheel(this.context.extensionPath);
      if (wheel && wheel.version !== this.context.globalState.get<string>(INSTALLED)) {
        // A failed upgrade leaves the previous server in place.
        await this.install("upgrade", read);
      }
      return this.managed();
    }
    if (findOnPath("pairline")) {
      return serverCommand(read);
    }
    if (!this.context.globalState.get<boolean>(OFFERED)) {
      const choice = await vscode.window.showInformationMessage(
        "pairline: no pairline server was found. Set one up now? It goes into a virtualenv in VS Code's storage for this extension; " +
          "the first set-up builds llama.cpp, about 10 minutes on 2 cores.",
        SET_UP,
        "Not Now",
      );
      await this.context.globalState.update(OFFERED, true);
      if (choice === SET_UP && (await this.install("setup", read))) {
        return this.managed();
      }
    }
    return undefined;
  }

  /** Sets up (or reinstalls, or upgrades) the managed server; false when it did not happen. */
  install(mode: Mode, read: SettingReader): Promise<boolean> {
    if (this.busy) {
      void vscode.window.showInformationMessage("pairline: the server set-up is already running.");
      return this.busy;
    }
    const busy = this.run(mode, read).finally(() => {
      this.busy = undefined;
    });
    this.busy = busy;
    return busy;
  }

  private async findPython(read: SettingReader): Promise<Python> {
    const configured = read("server.setupPython");
    let candidates: readonly string[];
    if (typeof configured === "string" && configured.trim()) {
      // A Python the user names is the only one tried: falling back to another would surprise them.
      candidates = [configured.trim()];
    } else {
      const selected = await pythonExtensionInterpreter();
      candidates = selected ? [selected, ...PATH_PYTHONS] : PATH_PYTHONS;
    }
    const { python, rejected } = await findPython(candidates);
    if (!python) {
      throw new SetupError(noPythonMessage(rejected));
    }
    return python;
  }

  private run(mode: Mode, read: SettingReader): Promise<boolean> {
    const wheel = bundledWheel(this.context.extensionPath);
    if (!wheel) {
      void vscode.window.showErrorMessage(
        "pairline: this build of the extension carries no server wheel. Set pairline.server.pythonPath to a Python with pairline installed.",
      );
      return Promise.resolve(false);
    }
    const fresh = mode !== "upgrade";
    const title = mode === "upgrade" ? `pairline: upgrading the server to ${wheel.version}` : "pairline: setting up the server";
    return Promise.resolve(
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        async (progress, token) => {
          const step = (message: string): void => {
            progress.report({ message });
            this.status.set({ kind: "installing", message });
          };
          const exec = async (command: string, args: string[], onLine: (line: string) => void): Promise<string[]> => {
            this.log.info(`running ${command} ${args.join(" ")}`);
            const running = runLines(command, args, (line) => {
              this.log.info(line);
              onLine(line);
            });
            const stop = token.onCancellationRequested(() => {
              running.kill();
            });
            const { code, tail } = await running.done.finally(() => {
              stop.dispose();
            });
            if (token.isCancellationRequested) {
              throw new Cancelled();
            }
            if (code !== 0) {
              throw new ExitError(code, tail);
            }
            return tail;
          };
          try {
            step("looking for Python 3.11 or newer");
            const python = await this.findPython(read);
            this.log.info(`using Python ${python.version} at ${python.executable}`);
            const extra = installArgs(read);
            if (fresh) {
              // Extra pip arguments may bring prebuilt wheels: then nothing is compiled here.
              const missing = extra.length ? [] : missingBuildTools();
              if (missing.length) {
                throw new SetupError(missingToolsMessage(missing));
              }
              await fs.promises.rm(this.venv, { recursive: true, force: true });
              await this.context.globalState.update(INSTALLED, undefined);
              await fs.promises.mkdir(path.dirname(this.venv), { recursive: true });
              step(`creating a virtualenv (Python ${python.version})`);
              await exec(python.executable, ["-m", "venv", this.venv], () => undefined).catch((error: unknown) => {
                if (error instanceof ExitError && error.tail.some((line) => line.includes("ensurepip"))) {
                  throw new SetupError(
                    "pairline: Python's venv module is missing or incomplete. Install it (e.g. `sudo apt install python3-venv`), then run \"pairline: Set Up Server\".",
                  );
                }
                throw error;
              });
            }
            if (token.isCancellationRequested) {
              throw new Cancelled();
            }
            step(`installing pairline ${wheel.version} with pip`);
            let building = "";
            await exec(venvPython(this.venv), ["-m", "pip", "install", "--disable-pip-version-check", "-v", wheel.file, ...extra], (line) => {
              if (buildsLlamaCpp(line)) {
                building = "building llama.cpp, the long part (about 10 minutes on 2 cores): ";
              }
              const shown = progressLine(line);
              if (shown) {
                step(building + shown);
              }
            });
            await this.context.globalState.update(INSTALLED, wheel.version);
            this.log.info(`pairline ${wheel.version} is set up in ${this.venv}`);
            return true;
          } catch (error) {
            if (fresh) {
              await fs.promises.rm(this.venv, { recursive: true, force: true });
              await this.context.globalState.update(INSTALLED, undefined);
            }
            this.report(error, fresh);
            return false;
          }
        },
      ),
    );
  }

  private report(error: unknown, fresh: boolean): void {
    const kept = fresh ? "nothing was left installed" : "the previous server stays in place";
    let message: string;
    if (error instanceof Cancelled) {
      message = `pairline: server set-up cancelled; ${kept}. Run "pairline: Set Up Server" to start again.`;
    } else if (error instanceof SetupError) {
      message = error.message.startsWith("pairline") ? error.message : `pairline: ${error.message}`;
    } else if (error instanceof ExitError) {
      const compile = error.tail.some((line) => /CMAKE_(C|CXX)_COMPILER|No CMAKE_|cmake: not found|Could not find CMake/i.test(line));
      message = compile
        ? `pairline: ${missingToolsMessage(["a working C/C++ compiler", "CMake"])}`
        : `pairline: the server set-up failed (exit code ${error.code ?? "none"}; ${kept}): ${error.tail.at(-1) ?? ""}. See the log for pip's output.`;
    } else {
      message = `pairline: the server set-up failed (${kept}): ${error instanceof Error ? error.message : String(error)}`;
    }
    this.log.error(message);
    this.status.set({ kind: "missing" });
    void vscode.window.showErrorMessage(message, "Show Log").then((choice) => {
      if (choice) {
        this.log.show();
      }
    });
  }
}

class ExitError extends Error {
  constructor(
    readonly code: number | null,
    readonly tail: string[],
  ) {
    super(`exit code ${code ?? "none"}`);
  }
}
