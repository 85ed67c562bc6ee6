/** Entry point: wires the status bar, the language client, commands and settings together. */

import * as vscode from "vscode";

import { completionsEnabled, PairlineClient, readSetting } from "./client";
import { LAST_PROMPT_COMMAND, LastPrompt } from "./lastPrompt";
import { INLINE_ACCEPTED_COMMAND, NextEdits } from "./nextEdit";
import type { InlineEdit } from "./nextEditShape";
import { RESTART_SECTIONS } from "./settings";
import { ServerSetup } from "./setup";
import { StatusBar } from "./status";

const COMMANDS = {
  toggle: "pairline.toggleCompletions",
  restart: "pairline.restartServer",
  showLog: "pairline.showLog",
  setUp: "pairline.setUpServer",
  reinstall: "pairline.reinstallServer",
  goToNextEdit: "pairline.goToNextEdit",
  dismissNextEdit: "pairline.dismissNextEdit",
} as const;

let client: PairlineClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel("pairline", { log: true });
  const status = new StatusBar(COMMANDS.showLog, COMMANDS.toggle, COMMANDS.setUp);
  status.setEnabled(completionsEnabled());
  const setup = new ServerSetup(context, log, status);
  client = new PairlineClient(log, status, (read) => setup.resolve(read));
  const current = client;
  const nextEdits = new NextEdits(() => current.languageClient, log);
  current.nextEdits = nextEdits;
  const lastPrompt = new LastPrompt(() => current.languageClient);
  const usesConfigured = (): boolean =>
    ["server.pythonPath", "server.path"].some((key) => (readSetting()(key) as string | undefined)?.trim());
  const install = async (mode: "setup" | "reinstall"): Promise<void> => {
    if (mode === "setup" && setup.managed()) {
      void vscode.window.showInformationMessage('pairline: the server is already set up; "pairline: Reinstall Server" installs it again.');
      return;
    }
    // The running server may be the managed one: it stops before its files are replaced.
    await current.stop();
    if (await setup.install(mode, readSetting())) {
      if (usesConfigured()) {
        void vscode.window.showInformationMessage(
          "pairline: the server is set up, but pairline.server.pythonPath or pairline.server.path is set and is used instead; clear it to use the set-up server.",
        );
      }
    }
    await current.start();
  };

  context.subscriptions.push(
    log,
    status,
    current,
    nextEdits,
    lastPrompt,
    vscode.commands.registerCommand(LAST_PROMPT_COMMAND, () => lastPrompt.show()),
    vscode.commands.registerCommand(COMMANDS.goToNextEdit, () => nextEdits.goTo()),
    vscode.commands.registerCommand(COMMANDS.dismissNextEdit, () => {
      nextEdits.dismiss();
    }),
    vscode.commands.registerCommand(INLINE_ACCEPTED_COMMAND, (edit: InlineEdit) => nextEdits.inlineAccepted(edit)),
    vscode.commands.registerCommand(COMMANDS.showLog, () => {
      log.show();
    }),
    vscode.commands.registerCommand(COMMANDS.restart, () => current.restart()),
    vscode.commands.registerCommand(COMMANDS.setUp, () => install("setup")),
    vscode.commands.registerCommand(COMMANDS.reinstall, () => install("reinstall")),
    vscode.commands.registerCommand(COMMANDS.toggle, () =>
      vscode.workspace
        .getConfiguration("pairline")
        .update("completions.enable", !completionsEnabled(), vscode.ConfigurationTarget.Global),
    ),
    // Trusting the workspace may allow check commands: tell the server.
    vscode.workspace.onDidGrantWorkspaceTrust(() => current.sendSettings()),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("pairline.completions.enable")) {
        status.setEnabled(completionsEnabled());
      }
      if (RESTART_SECTIONS.some((section) => event.affectsConfiguration(section))) {
        await current.restart();
      } else if (event.affectsConfiguration("pairline")) {
        await current.sendSettings();
      }
    }),
  );
  // Not awaited: the first start may wait on the set-up offer, which must not hold up activation.
  void current.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
