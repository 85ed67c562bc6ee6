/** The language client: starts `pairline serve` over stdio and keeps its settings current. */

import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  ResponseError,
  State as ClientState,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";

import type { NextEdits } from "./nextEdit";
import { serverSettings, type ServerCommand, type ServerSettings, type SettingReader } from "./settings";
import type { ServerStatus, StatusBar } from "./status";

const STATUS_NOTIFICATION = "pairline/status";
/** The documents the server is sent (and so can answer for). */
export const SYNCED_SCHEMES: readonly string[] = ["file", "untitled"];

export function readSetting(): SettingReader {
  const config = vscode.workspace.getConfiguration("pairline");
  return (key) => config.get(key);
}

/** What the server is sent: the whole `pairline` section, less the extension's own keys. */
function currentServerSettings(): ServerSettings {
  return serverSettings(vscode.workspace.getConfiguration().get("pairline"), vscode.workspace.isTrusted);
}

/** Whether inline completions are switched on (`pairline.completions.enable`). */
export function completionsEnabled(): boolean {
  return vscode.workspace.getConfiguration("pairline").get<boolean>("completions.enable", true);
}

function hasItems(result: vscode.InlineCompletionItem[] | vscode.InlineCompletionList | null | undefined): boolean {
  return (Array.isArray(result) ? result : (result?.items ?? [])).length > 0;
}

export class PairlineClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  /** Set once by the extension: the next-edit suggestions, which ride on inline completion. */
  nextEdits: NextEdits | undefined;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly status: StatusBar,
    /** Which server to start; undefined when none is configured, installed or set up. */
    private readonly resolveServer: (read: SettingReader) => Promise<ServerCommand | undefined>,
  ) {}

  /** The running language client, if any (for requests of its own, such as next edits). */
  get languageClient(): LanguageClient | undefined {
    return this.client;
  }

  async start(): Promise<void> {
    this.status.set({ kind: "starting" });
    const server = await this.resolveServer(readSetting());
    if (!server) {
      this.log.warn('no pairline server: set pairline.server.path or pairline.server.pythonPath, or run "pairline: Set Up Server"');
      this.status.set({ kind: "missing" });
      return;
    }
    // The set-up may have shown its own steps meanwhile.
    this.status.set({ kind: "starting" });
    const { command, args } = server;
    const serverOptions: ServerOptions = {
      run: { command, args },
      debug: { command, args },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: SYNCED_SCHEMES.map((scheme) => ({ scheme })),
      outputChannel: this.log,
      // A function, so a restart sends the settings as they are then.
      initializationOptions: () => currentServerSettings(),
      middleware: {
        // A next edit on the cursor's line joins here rather than through a provider of its
        // own: then the server's completion, when it has one, wins, and there is never a second
        // item competing with it for the same ghost text.
        provideInlineCompletionItems: async (document, position, context, token, next) => {
          const result = completionsEnabled() ? await next(document, position, context, token) : undefined;
          if (hasItems(result) || token.isCancellationRequested) {
            return result;
          }
          const item = this.nextEdits?.inlineItem(document, position);
          return item ? [item] : result;
        },
        workspace: {
          // The server pulls its section when told of a change without one: answer in its layout.
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (result instanceof ResponseError) {
              return result;
            }
            return params.items.map((item, index): unknown =>
              item.section === "pairline" ? currentServerSettings() : result[index],
            );
          },
        },
      },
    };
    const client = new LanguageClient("pairline", "pairline", serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((event) => {
      if (event.newState === ClientState.Stopped && this.client === client) {
        this.status.set({ kind: "stopped" });
      }
    });
    client.onNotification(STATUS_NOTIFICATION, (params: ServerStatus) => {
      this.status.fromServer(params);
    });
    this.log.info(`starting ${command} ${args.join(" ")}`);
    try {
      await client.start();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(`could not start the server (${command}): ${message}`);
      this.status.set({ kind: "error", message: `could not start ${command}` });
      void vscode.window
        .showErrorMessage(`pairline: could not start the server (${command}). Set pairline.server.path or pairline.server.pythonPath.`, "Show Log")
        .then((choice) => {
          if (choice) {
            this.log.show();
          }
        });
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client?.needsStop()) {
      await client.stop();
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Send the current settings; the server reloads the model itself when model settings change. */
  async sendSettings(): Promise<void> {
    const client = this.client;
    if (client?.isRunning()) {
      await client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: currentServerSettings(),
      });
    }
  }

  dispose(): void {
    void this.stop();
  }
}
