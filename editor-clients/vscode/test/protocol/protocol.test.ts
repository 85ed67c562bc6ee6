/**
 * Protocol tests in plain Node: the real `pairline serve`, started the way the extension starts
 * it, fed the settings the extension sends. Set PAIRLINE_PYTHON to an interpreter with pairline
 * installed (as `pairline.server.pythonPath`), or leave it unset to use `pairline` on PATH.
 */

import * as assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CodeActionRequest,
  createProtocolConnection,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExecuteCommandRequest,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  InlineCompletionRequest,
  LogMessageNotification,
  ShowMessageNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocumentSyncKind,
  WorkDoneProgressCreateRequest,
  type InitializeResult,
  type InlineCompletionItem,
  type ProtocolConnection,
  type ShowMessageParams,
} from "vscode-languageserver-protocol/node";

import {
  asInlineItem,
  decorationText,
  endOf,
  INLINE_EDIT_REQUEST,
  pickEdit,
  serverOffersNextEdit,
  type InlineEdit,
  type InlineEditParams,
  type InlineEditResult,
} from "../../src/nextEditShape";
import { CLIENT_ONLY, serverCommand, serverSettings, type ServerSettings, type SettingReader } from "../../src/settings";
import type { ServerStatus } from "../../src/status";

const ROOT = path.resolve(__dirname, "..", "..");

/** The defaults declared in package.json, with some keys (`model.nCtx`) overridden. */
function packageJsonValues(overrides: Record<string, unknown> = {}): Map<string, unknown> {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    contributes: { configuration: { properties: Record<string, { default: unknown }> } };
  };
  const values = new Map<string, unknown>();
  for (const [key, schema] of Object.entries(manifest.contributes.configuration.properties)) {
    values.set(key.replace(/^pairline\./, ""), schema.default);
  }
  for (const [key, value] of Object.entries(overrides)) {
    values.set(key, value);
  }
  return values;
}

/** A reader over those values, as `workspace.getConfiguration("pairline")` reads them. */
function packageJsonReader(overrides: Record<string, unknown> = {}): SettingReader {
  const values = packageJsonValues(overrides);
  return (key) => values.get(key);
}

/** The whole section nested by the dots in its keys, as `getConfiguration().get("pairline")` gives it. */
function packageJsonSection(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  for (const [key, value] of packageJsonValues(overrides)) {
    const parts = key.split(".");
    let node = section;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return section;
}

function sectionOf(settings: ServerSettings, name: string): Record<string, unknown> {
  const value = settings[name];
  assert.ok(typeof value === "object" && value !== null, `${name} is sent as an object`);
  return value as Record<string, unknown>;
}

/** Resolves when `predicate` holds for something pushed into `list`. */
class Recorder<T> {
  readonly items: T[] = [];
  private waiters: { predicate: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.predicate(item)) {
        waiter.resolve(item);
        return false;
      }
      return true;
    });
  }

  next(predicate: (item: T) => boolean, after = this.items.length): Promise<T> {
    const found = this.items.slice(after).find(predicate);
    if (found !== undefined) {
      return Promise.resolve(found);
    }
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }
}

class Server {
  readonly status = new Recorder<ServerStatus>();
  readonly messages = new Recorder<ShowMessageParams>();
  readonly progress: unknown[] = [];
  readonly connection: ProtocolConnection;
  private readonly process: ChildProcessWithoutNullStreams;

  constructor(reader: SettingReader) {
    const { command, args } = serverCommand(reader);
    this.process = spawn(command, args, { stdio: "pipe" });
    this.process.stderr.resume();
    this.connection = createProtocolConnection(
      new StreamMessageReader(this.process.stdout),
      new StreamMessageWriter(this.process.stdin),
    );
    this.connection.onNotification("pairline/status", (params: ServerStatus) => {
      this.status.push(params);
    });
    this.connection.onNotification(ShowMessageNotification.type, (params) => {
      this.messages.push(params);
    });
    this.connection.onNotification(LogMessageNotification.type, () => undefined);
    this.connection.onRequest(WorkDoneProgressCreateRequest.type, () => {
      // Accept every progress token.
    });
    this.connection.onNotification("$/progress", (params: unknown) => {
      this.progress.push(params);
    });
    this.connection.listen();
  }

  async initialize(settings: unknown): Promise<InitializeResult> {
    const result = await this.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      // Required by the type, though deprecated in favour of workspaceFolders.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      rootUri: null,
      workspaceFolders: null,
      initializationOptions: settings,
      capabilities: {
        general: { positionEncodings: ["utf-16"] },
        window: { workDoneProgress: true },
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true } },
        textDocument: {
          synchronization: { dynamicRegistration: true, didSave: true },
          inlineCompletion: { dynamicRegistration: true },
          codeAction: {
            dynamicRegistration: true,
            codeActionLiteralSupport: {
              codeActionKind: { valueSet: ["", "quickfix", "refactor", "refactor.rewrite"] },
            },
            resolveSupport: { properties: ["edit"] },
          },
        },
      },
    });
    await this.connection.sendNotification(InitializedNotification.type, {});
    return result;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.process.once("exit", resolve));
    await this.connection.sendRequest(ShutdownRequest.type);
    await this.connection.sendNotification(ExitNotification.type);
    await exited;
    this.connection.dispose();
  }
}

function reader(): SettingReader {
  const python = process.env.PAIRLINE_PYTHON;
  return packageJsonReader(python ? { "server.pythonPath": python } : {});
}

describe("settings", () => {
  test("the whole section is sent, less the extension's own keys", () => {
    const sent = serverSettings(packageJsonSection());
    assert.deepEqual(Object.keys(sent).sort(), ["actions", "cacheDir", "completion", "completionRemote", "context", "model", "nextEdit", "remote"]);
    for (const key of CLIENT_ONLY) {
      assert.equal(sent[key], undefined, key);
    }
    // Settings package.json once left out, and ones it does not declare, go as written.
    const written = serverSettings(packageJsonSection({ "context.enable": false, "completion.someday": 1 }));
    assert.equal(sectionOf(written, "context").enable, false);
    assert.equal(sectionOf(written, "completion").someday, 1);
  });

  test("check commands are trusted only in a trusted workspace", () => {
    const section = packageJsonSection({ "actions.trusted": true });
    assert.equal(sectionOf(serverSettings(section, true), "actions").trusted, true);
    assert.equal(sectionOf(serverSettings(section, false), "actions").trusted, false);
    assert.equal(sectionOf(serverSettings(packageJsonSection(), true), "actions").trusted, false);
  });

  test("server command: python -m pairline, a path, or pairline on PATH", () => {
    assert.deepEqual(serverCommand(packageJsonReader({ "server.pythonPath": "/opt/py/bin/python" })), {
      command: "/opt/py/bin/python",
      args: ["-m", "pairline", "serve"],
    });
    assert.deepEqual(serverCommand(packageJsonReader({ "server.path": "/opt/bin/pairline" })), {
      command: "/opt/bin/pairline",
      args: ["serve"],
    });
    assert.deepEqual(serverCommand(packageJsonReader()), { command: "pairline", args: ["serve"] });
  });
});

describe("next edits, as the extension shows them", () => {
  const edit = (line: number, start: number, end: number, text: string, version = 2): InlineEdit => ({
    text,
    range: { start: { line, character: start }, end: { line, character: end } },
    textDocument: { uri: "file:///w/a.py", version },
  });

  test("only an edit for the version the editor holds is kept", () => {
    const result: InlineEditResult = { edits: [edit(3, 4, 9, "old", 1), edit(3, 4, 9, "new", 2)] };
    assert.equal(pickEdit(result, () => 2)?.text, "new");
    assert.equal(pickEdit(result, () => 3), undefined);
    assert.equal(pickEdit(result, () => undefined), undefined);
    assert.equal(pickEdit(null, () => 2), undefined);
  });

  test("an edit on the cursor's line becomes an item whose range reaches the cursor", () => {
    const line = "    total = amount + count";
    // The cursor after "amount"; the edit renames the later "count".
    assert.deepEqual(asInlineItem(edit(0, 21, 26, "amount"), line, { line: 0, character: 18 }), {
      line: 0,
      start: 18,
      end: 26,
      insertText: " + amount",
    });
    // An insertion before the cursor: the range starts at the edit and ends at the cursor.
    assert.deepEqual(asInlineItem(edit(0, 4, 4, "grand_"), line, { line: 0, character: 9 }), {
      line: 0,
      start: 4,
      end: 9,
      insertText: "grand_total",
    });
  });

  test("an edit on another line, or of several lines, is not an inline item", () => {
    assert.equal(asInlineItem(edit(3, 4, 9, "amount"), "x", { line: 0, character: 0 }), undefined);
    assert.equal(asInlineItem(edit(0, 0, 1, "a\nb"), "x", { line: 0, character: 0 }), undefined);
  });

  test("the decoration shows new lines as a symbol; the cursor ends after the new text", () => {
    assert.equal(decorationText("a\nb"), "a \u23ce b");
    assert.deepEqual(endOf({ line: 2, character: 4 }, "amount"), { line: 2, character: 10 });
    assert.deepEqual(endOf({ line: 2, character: 4 }, "x\nyz"), { line: 3, character: 2 });
  });

  test("the capability is read from experimental.pairline.nextEdit", () => {
    assert.equal(serverOffersNextEdit({ experimental: { pairline: { nextEdit: true } } }), true);
    assert.equal(serverOffersNextEdit({ experimental: {} }), false);
    assert.equal(serverOffersNextEdit(undefined), false);
  });
});

describe("the real server, as the extension starts it", () => {
  let server: Server;
  let init: InitializeResult;

  before(async () => {
    server = new Server(reader());
    // Every setting the extension contributes, none at its default, must be accepted.
    init = await server.initialize(
      serverSettings(
        packageJsonSection({
          "completion.maxTokens": 40,
          "completion.promptTokens": 900,
          "completion.enable": { "*": true, markdown: false },
          "completion.recordStats": false,
          "remote.apiKeyEnv": "PAIRLINE_TEST_KEY",
          "model.nThreads": 2,
          "remote.promptStyle": "completion",
          "actions.backend": { "*": "auto", fix: "local" },
          "actions.trusted": true,
          "actions.checkCommands": { python: "python -m py_compile {file}" },
          "actions.rounds": 2,
          "actions.offerUnverified": true,
        }),
      ),
    );
  });

  after(async () => {
    await server.close();
  });

  test("advertises inline completion, code actions and incremental sync", () => {
    const caps = init.capabilities;
    assert.ok(caps.inlineCompletionProvider);
    assert.ok(caps.codeActionProvider);
    // vscode-languageclient forwards these commands to the server: an accepted item's command,
    // the edit of a code action for clients that cannot resolve one, an accepted next edit's.
    assert.deepEqual([...(caps.executeCommandProvider?.commands ?? [])].sort(), [
      "pairline.accepted",
      "pairline.applyAction",
      "pairline.nextEditAccepted",
    ]);
    const sync = caps.textDocumentSync;
    assert.ok(typeof sync === "object");
    assert.equal(sync.change, TextDocumentSyncKind.Incremental);
  });

  test("reports loading, then ready, on pairline/status; accepts the settings silently", async () => {
    await server.status.next((status) => status.state === "loading", 0);
    const ready = await server.status.next((status) => status.state === "ready", 0);
    assert.ok(ready.model, "ready names the model");
    assert.ok(server.progress.length > 0, "model loading is reported with $/progress");
    assert.deepEqual(server.messages.items, [], "no settings warning");
  });

  test("answers inline completion from the real model", async () => {
    await server.status.next((status) => status.state === "ready", 0);
    const uri = "file:///tmp/pairline-protocol/add.py";
    const text = "def add(a, b):\n    \"\"\"Return the sum of a and b.\"\"\"\n    return ";
    await server.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: "python", version: 1, text },
    });
    const result = await server.connection.sendRequest(InlineCompletionRequest.type, {
      textDocument: { uri },
      position: { line: 2, character: 11 },
      context: { triggerKind: 2 },
    });
    const items: InlineCompletionItem[] = Array.isArray(result) ? result : (result?.items ?? []);
    assert.equal(items.length, 1);
    const insert = items[0]?.insertText;
    assert.ok(typeof insert === "string" && insert.trim().length > 0, JSON.stringify(items));
    // completion.recordStats is off here: nothing recorded, so no accept command either.
    assert.equal(items[0]?.command, undefined);
  });

  test("offers Fix this for a selected line", async () => {
    const uri = "file:///tmp/pairline-protocol/add.py";
    const result = await server.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: { start: { line: 2, character: 4 }, end: { line: 2, character: 11 } },
      context: { diagnostics: [] },
    });
    assert.ok(Array.isArray(result));
    const titles = result.map((action) => action.title);
    assert.ok(titles.some((title) => title.includes("Fix this")), JSON.stringify(titles));
  });

  test("after a rename in one line, copilotInlineEdit proposes the next occurrence", async () => {
    assert.ok(serverOffersNextEdit(init.capabilities), JSON.stringify(init.capabilities.experimental));
    const uri = "file:///tmp/pairline-protocol/total.py";
    const text = [
      "def total(items):",
      "    count = 0",
      "    for item in items:",
      '        count += item  # "count" in a comment',
      "    return count",
      "",
    ].join("\n");
    await server.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: "python", version: 1, text },
    });
    // The user renames `count` in line 1, as the editor sends it: one change per keystroke.
    await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 2 },
      contentChanges: [{ range: { start: { line: 1, character: 4 }, end: { line: 1, character: 9 } }, text: "" }],
    });
    let version = 2;
    for (const [index, char] of ["a", "m", "o", "u", "n", "t"].entries()) {
      version += 1;
      await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version },
        contentChanges: [
          { range: { start: { line: 1, character: 4 + index }, end: { line: 1, character: 4 + index } }, text: char },
        ],
      });
    }
    const params: InlineEditParams = { textDocument: { uri, version }, position: { line: 1, character: 10 } };
    const result = await server.connection.sendRequest<InlineEditResult>(INLINE_EDIT_REQUEST, params);
    const best = pickEdit(result, (u) => (u === uri ? version : undefined));
    assert.ok(best, JSON.stringify(result));
    assert.deepEqual(best.range, { start: { line: 3, character: 8 }, end: { line: 3, character: 13 } });
    assert.equal(best.text, "amount");
    // Accepting runs the edit's command, as the extension does after applying it.
    assert.ok(best.command, JSON.stringify(best));
    await server.connection.sendRequest(ExecuteCommandRequest.type, {
      command: best.command.command,
      arguments: best.command.arguments ?? [],
    });
    // A request for a version the server no longer holds gets no edit.
    const stale = await server.connection.sendRequest<InlineEditResult>(INLINE_EDIT_REQUEST, {
      ...params,
      textDocument: { uri, version: version - 1 },
    });
    assert.equal(pickEdit(stale, () => version - 1), undefined);
  });

  test("a changed model setting sent as the extension sends it reloads the model", async () => {
    const seen = server.status.items.length;
    await server.connection.sendNotification(DidChangeConfigurationNotification.type, {
      settings: serverSettings(packageJsonSection({ "model.nCtx": 1024 })),
    });
    await server.status.next((status) => status.state === "loading", seen);
    await server.status.next((status) => status.state === "ready", seen);
    assert.deepEqual(server.messages.items, []);
  });

  test("a value of the wrong type is sent as written; the server names it and keeps defaults", async () => {
    await server.connection.sendNotification(DidChangeConfigurationNotification.type, {
      settings: serverSettings(packageJsonSection({ "model.nCtx": 1024, "completion.enable": [] })),
    });
    const warning = await server.messages.next((message) => message.message.includes("completion.enable"));
    assert.match(warning.message, /invalid completion settings .*; using defaults/);
  });
});
