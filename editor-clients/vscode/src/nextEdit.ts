/**
 * Next-edit suggestions: after the user's edits (debounced) the server is asked for the edit
 * that should follow. One on the cursor's line is offered as an inline completion item (see
 * `inlineItem`, called from the language client's middleware); one elsewhere is drawn at its
 * place (old text struck through, new text after it) and `pairline: Go to Next Edit` jumps
 * there, then applies it on the next press. Escape or any edit dismisses it.
 */

import * as vscode from "vscode";
import { ExecuteCommandRequest, type LanguageClient } from "vscode-languageclient/node";

import { SYNCED_SCHEMES } from "./client";
import {
  asInlineItem,
  decorationText,
  DID_SHOW_INLINE_EDIT,
  endOf,
  INLINE_EDIT_REQUEST,
  pickEdit,
  serverOffersNextEdit,
  type InlineEdit,
  type InlineEditParams,
  type InlineEditResult,
} from "./nextEditShape";

/** Quiet time after the last keystroke before asking: one request per burst of typing. */
const DEBOUNCE_MS = 250;
/** Context key of the keybindings (`alt+]`, `escape`) that act on a shown suggestion. */
const SHOWN_CONTEXT = "pairline.nextEditShown";
/** Internal: run after an inline item is accepted, to tell the server (no palette entry). */
export const INLINE_ACCEPTED_COMMAND = "pairline.nextEditInlineAccepted";

type Shown = {
  edit: InlineEdit;
  document: vscode.TextDocument;
  range: vscode.Range;
  inline: boolean; // on the cursor's line: an inline completion item, not a decoration
  announced: boolean; // didShowInlineEdit sent
};

function nextEditEnabled(): boolean {
  return vscode.workspace.getConfiguration("pairline").get<boolean>("nextEdit.enable", true);
}

export class NextEdits implements vscode.Disposable {
  private shown: Shown | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: vscode.CancellationTokenSource | undefined;
  private readonly removed = vscode.window.createTextEditorDecorationType({
    textDecoration: "line-through",
    backgroundColor: new vscode.ThemeColor("diffEditor.removedTextBackground"),
  });
  private readonly added = vscode.window.createTextEditorDecorationType({
    after: {
      backgroundColor: new vscode.ThemeColor("diffEditor.insertedTextBackground"),
      color: new vscode.ThemeColor("editorGhostText.foreground"),
      fontStyle: "italic",
      margin: "0 0 0 0.25em",
    },
  });
  private readonly subscriptions: { dispose(): unknown }[];

  constructor(
    private readonly client: () => LanguageClient | undefined,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscriptions = [
      this.removed,
      this.added,
      vscode.workspace.onDidChangeTextDocument((event) => {
        this.onEdit(event);
      }),
      vscode.workspace.onDidCloseTextDocument((document) => {
        if (this.shown?.document === document) {
          this.dismiss();
        }
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => {
        this.render();
      }),
    ];
  }

  private onEdit(event: vscode.TextDocumentChangeEvent): void {
    const editor = vscode.window.activeTextEditor;
    const typedIn = editor?.document === event.document;
    // Output channels and other documents in the background change too: only an edit of the
    // document being edited, or of the one the suggestion is for, counts; and only of documents
    // the server is sent (a virtual one, such as the last prompt, it never sees).
    const synced = SYNCED_SCHEMES.includes(event.document.uri.scheme);
    if (event.contentChanges.length === 0 || !synced || !(typedIn || event.document === this.shown?.document)) {
      return;
    }
    // Any edit dismisses what is shown: its range is of the text before.
    this.dismiss();
    if (editor && typedIn && nextEditEnabled()) {
      this.schedule(editor);
    }
  }

  private schedule(editor: vscode.TextEditor): void {
    this.cancelPending();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.request(editor);
    }, DEBOUNCE_MS);
  }

  /** A new request supersedes the previous one: cancel it so that the server stops working on it. */
  private cancelPending(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.inFlight?.cancel();
    this.inFlight?.dispose();
    this.inFlight = undefined;
  }

  private async request(editor: vscode.TextEditor): Promise<void> {
    const client = this.client();
    if (!client?.isRunning() || !serverOffersNextEdit(client.initializeResult?.capabilities)) {
      return;
    }
    const document = editor.document;
    const version = document.version;
    const cursor = editor.selection.active;
    const c2p = client.code2ProtocolConverter;
    const params: InlineEditParams = {
      textDocument: { uri: c2p.asUri(document.uri), version },
      position: c2p.asPosition(cursor),
    };
    const source = new vscode.CancellationTokenSource();
    this.inFlight = source;
    let result: InlineEditResult;
    try {
      result = await client.sendRequest<InlineEditResult>(INLINE_EDIT_REQUEST, params, source.token);
    } catch (error) {
      if (!source.token.isCancellationRequested) {
        this.log.warn(`next edit: ${error instanceof Error ? error.message : String(error)}`);
      }
      return;
    } finally {
      if (this.inFlight === source) {
        this.inFlight = undefined;
      }
      source.dispose();
    }
    if (source.token.isCancellationRequested || document.version !== version) {
      return;
    }
    const open = new Map(vscode.workspace.textDocuments.map((doc) => [c2p.asUri(doc.uri), doc]));
    const edit = pickEdit(result, (uri) => open.get(uri)?.version);
    const target = edit && open.get(edit.textDocument.uri);
    if (!edit || !target) {
      return;
    }
    const range = client.protocol2CodeConverter.asRange(edit.range);
    const onCursorLine =
      target === document && asInlineItem(edit, document.lineAt(cursor.line).text, cursor) !== undefined;
    this.shown = { edit, document: target, range, inline: onCursorLine, announced: false };
    if (onCursorLine) {
      // VS Code asks the providers again, and the middleware adds this item when the server's
      // own completion is empty.
      await vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
    } else {
      this.render();
      this.announce();
      await vscode.commands.executeCommand("setContext", SHOWN_CONTEXT, true);
    }
  }

  /** Tell the server, once, that the suggestion is on screen (it counts them). */
  private announce(): void {
    const shown = this.shown;
    const client = this.client();
    if (shown && !shown.announced && client?.isRunning()) {
      shown.announced = true;
      client.sendNotification(DID_SHOW_INLINE_EDIT, { item: shown.edit }).catch(() => undefined);
    }
  }

  /** The shown suggestion as an inline completion item at `position`, when it is on its line. */
  inlineItem(document: vscode.TextDocument, position: vscode.Position): vscode.InlineCompletionItem | undefined {
    const shown = this.shown;
    if (!shown?.inline || shown.document !== document || document.version !== shown.edit.textDocument.version) {
      return undefined;
    }
    const item = asInlineItem(shown.edit, document.lineAt(position.line).text, position);
    if (!item) {
      return undefined;
    }
    const range = new vscode.Range(item.line, item.start, item.line, item.end);
    this.announce();
    return new vscode.InlineCompletionItem(item.insertText, range, {
      title: "next edit accepted",
      command: INLINE_ACCEPTED_COMMAND,
      arguments: [shown.edit],
    });
  }

  /** After an inline item is accepted: run the edit's command on the server, as the contract says. */
  async inlineAccepted(edit: InlineEdit): Promise<void> {
    await this.runCommand(edit);
  }

  /** `pairline: Go to Next Edit`: the first press jumps to the suggestion, the next applies it. */
  async goTo(): Promise<void> {
    const shown = this.shown;
    if (!shown || shown.inline) {
      vscode.window.setStatusBarMessage("pairline: no next edit", 3000);
      return;
    }
    if (shown.document.version !== shown.edit.textDocument.version) {
      this.dismiss();
      return;
    }
    const editor = await vscode.window.showTextDocument(shown.document);
    const cursor = editor.selection.active;
    if (!editor.selection.isEmpty || !shown.range.contains(cursor)) {
      editor.selection = new vscode.Selection(shown.range.start, shown.range.start);
      editor.revealRange(shown.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return;
    }
    this.dismiss();
    const edit = new vscode.WorkspaceEdit();
    edit.replace(shown.document.uri, shown.range, shown.edit.text);
    if (!(await vscode.workspace.applyEdit(edit))) {
      this.log.warn("next edit: VS Code did not apply the edit");
      return;
    }
    const end = endOf(shown.range.start, shown.edit.text);
    const position = new vscode.Position(end.line, end.character);
    editor.selection = new vscode.Selection(position, position);
    await this.runCommand(shown.edit);
  }

  private async runCommand(edit: InlineEdit): Promise<void> {
    const client = this.client();
    if (!edit.command || !client?.isRunning()) {
      return;
    }
    try {
      await client.sendRequest(ExecuteCommandRequest.type, {
        command: edit.command.command,
        arguments: edit.command.arguments ?? [],
      });
    } catch (error) {
      this.log.warn(`next edit: ${edit.command.command}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Escape (while one is shown), any edit, or closing its document. */
  dismiss(): void {
    this.cancelPending();
    if (this.shown === undefined) {
      return;
    }
    const wasDecorated = !this.shown.inline;
    this.shown = undefined;
    this.render();
    if (wasDecorated) {
      void vscode.commands.executeCommand("setContext", SHOWN_CONTEXT, false);
    }
  }

  private render(): void {
    const shown = this.shown && !this.shown.inline ? this.shown : undefined;
    const hover = new vscode.MarkdownString("pairline: next edit. `pairline: Go to Next Edit` jumps here, then applies it; Escape dismisses it.");
    for (const editor of vscode.window.visibleTextEditors) {
      if (!shown || editor.document !== shown.document) {
        editor.setDecorations(this.removed, []);
        editor.setDecorations(this.added, []);
        continue;
      }
      editor.setDecorations(this.removed, shown.range.isEmpty ? [] : [{ range: shown.range, hoverMessage: hover }]);
      const text = decorationText(shown.edit.text);
      editor.setDecorations(
        this.added,
        text ? [{ range: new vscode.Range(shown.range.end, shown.range.end), renderOptions: { after: { contentText: text } } }] : [],
      );
    }
  }

  dispose(): void {
    this.cancelPending();
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
  }
}
