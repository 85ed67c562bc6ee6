/**
 * `pairline.debug.lastPrompt`: the last prompt the server gave the model, opened read-only beside
 * the editor, for bug reports ("what did the model see?") and the end-to-end tests. The focus
 * stays where it is, so a completion being asked for is not cancelled, and running the command
 * again refreshes the text. The command palette does not list it; bind a key to it or run it with
 * `executeCommand`.
 */

import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";

export const LAST_PROMPT_COMMAND = "pairline.debug.lastPrompt";
const LAST_PROMPT_REQUEST = "pairline/debug/lastPrompt";
const SCHEME = "pairline-debug";
const URI = vscode.Uri.from({ scheme: SCHEME, path: "/last prompt" });

/** A virtual document, so it opens read-only and closes without asking to be saved. */
export class LastPrompt implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private text = "";
  private readonly registration: vscode.Disposable;

  constructor(private readonly client: () => LanguageClient | undefined) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(SCHEME, this);
  }

  provideTextDocumentContent(): string {
    return this.text;
  }

  async show(): Promise<void> {
    const client = this.client();
    if (!client?.isRunning()) {
      void vscode.window.showWarningMessage("pairline: the server is not running.");
      return;
    }
    const result = await client.sendRequest<{ prompt: string | null }>(LAST_PROMPT_REQUEST, {});
    this.text = result.prompt ?? "(no prompt yet: the server has not been asked for a completion)";
    // An open document asks for its text again; a closed one reads it when opened.
    this.changed.fire(URI);
    const document = await vscode.workspace.openTextDocument(URI);
    await vscode.window.showTextDocument(document, {
      viewColumn: vscode.ViewColumn.Beside,
      preserveFocus: true,
      preview: false,
    });
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
