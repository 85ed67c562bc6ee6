/**
 * Next-edit suggestions on the wire (`textDocument/copilotInlineEdit`, the Copilot language
 * server's request, which pairline answers) and the decisions about them that need no editor:
 * which suggestion to keep, whether it is shown as ghost text, and the text of its decoration.
 * No `vscode` import here, so the protocol tests check exactly what the extension does.
 */

export const INLINE_EDIT_REQUEST = "textDocument/copilotInlineEdit";
/** Sent when a suggestion is shown (the server keeps counts only). */
export const DID_SHOW_INLINE_EDIT = "textDocument/didShowInlineEdit";

export type WirePosition = { line: number; character: number };
export type WireRange = { start: WirePosition; end: WirePosition };
export type WireCommand = { title: string; command: string; arguments?: unknown[] };

/** One proposed edit: `text` replaces `range` of the document `textDocument` names. */
export type InlineEdit = {
  text: string;
  range: WireRange;
  textDocument: { uri: string; version: number };
  command?: WireCommand;
};

export type InlineEditParams = {
  textDocument: { uri: string; version: number };
  position: WirePosition;
};

export type InlineEditResult = { edits: InlineEdit[] } | null;

/** Whether the server said, in its InitializeResult, that it answers the request. */
export function serverOffersNextEdit(capabilities: unknown): boolean {
  const experimental = (capabilities as { experimental?: { pairline?: { nextEdit?: unknown } } } | undefined)
    ?.experimental;
  return experimental?.pairline?.nextEdit === true;
}

/**
 * The suggestion to show: the server's best one that is for a version of a document the editor
 * holds now (`currentVersion` says which). A stale one is never shown: its range would be wrong.
 */
export function pickEdit(
  result: InlineEditResult,
  currentVersion: (uri: string) => number | undefined,
): InlineEdit | undefined {
  for (const edit of result?.edits ?? []) {
    const uri = edit.textDocument.uri;
    if (currentVersion(uri) === edit.textDocument.version) {
      return edit;
    }
  }
  return undefined;
}

/** An inline completion item: replace characters `start`..`end` of the cursor's line by `insertText`. */
export type InlineItem = { line: number; start: number; end: number; insertText: string };

/**
 * The edit as an inline completion item, when it is on the cursor's line of the same document:
 * VS Code shows an item only when its range holds the cursor, so the range grows to reach the
 * cursor and the text between them is kept as it is.
 */
export function asInlineItem(edit: InlineEdit, lineText: string, cursor: WirePosition): InlineItem | undefined {
  const { start, end } = edit.range;
  if (start.line !== cursor.line || end.line !== cursor.line || edit.text.includes("\n")) {
    return undefined;
  }
  const from = Math.min(start.character, cursor.character);
  const to = Math.max(end.character, cursor.character);
  const insertText = lineText.slice(from, start.character) + edit.text + lineText.slice(end.character, to);
  return { line: cursor.line, start: from, end: to, insertText };
}

/** What the decoration shows after the struck-through old text: the new text on one line. */
export function decorationText(text: string): string {
  return text.split("\n").join(" \u23ce ");
}

/** Where the cursor ends after `text` is put at `start`. */
export function endOf(start: WirePosition, text: string): WirePosition {
  const lines = text.split("\n");
  const last = lines[lines.length - 1] ?? "";
  return lines.length === 1
    ? { line: start.line, character: start.character + last.length }
    : { line: start.line + lines.length - 1, character: last.length };
}
