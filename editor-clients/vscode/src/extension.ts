/** Entry point: wires the status bar, the language client, commands and settings together. */

import * as vscode from "vscode";

import { completionsEnabled, PairlineClient } from "./client";
import { INLINE_ACCEPTED_COMMAND, NextEdits } from "./nextEdit";
import type { InlineEdit } from "./nextEditShape";
import { RESTART_SECTIONS } from "./settings";
import { StatusBar } from "./status";

const COMMANDS = {
  toggle: "pairline.toggleCompletions",
  restart: "pairline.restartServer",
  showLog: "pairline.showLog",
  goToNextEdit: "pairline.goToNextEdit",
  dismissNextEdit: "pairline.dismissNextEdit",
} as const;

let client: PairlineClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("pairline", { log: true });
  const status = new StatusBar(COMMANDS.showLog, COMMANDS.toggle);
  status.setEnabled(completionsEnabled());
  client = new PairlineClient(log, status);
  const current = client;
  const nextEdits = new NextEdits(() => current.languageClient, log);
  current.nextEdits = nextEdits;

  context.subscriptions.push(
    log,
    status,
    current,
    nextEdits,
    vscode.commands.registerCommand(COMMANDS.goToNextEdit, () => nextEdits.goTo()),
    vscode.commands.registerCommand(COMMANDS.dismissNextEdit, () => {
      nextEdits.dismiss();
    }),
    vscode.commands.registerCommand(INLINE_ACCEPTED_COMMAND, (edit: InlineEdit) => nextEdits.inlineAccepted(edit)),
    vscode.commands.registerCommand(COMMANDS.showLog, () => {
      log.show();
    }),
    vscode.commands.registerCommand(COMMANDS.restart, () => current.restart()),
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
  await current.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
