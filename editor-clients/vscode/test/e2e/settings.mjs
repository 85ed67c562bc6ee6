// End to end in a real VS Code: the user's `pairline.*` settings reach the server, including
// ones the extension once dropped. report.py imports totals.py, whose outline the server puts
// before the code as context ("# Path: totals.py"). With `pairline.context.enable: false` in the
// user settings from the start (sent as initializationOptions), the prompt the server builds for
// report.py holds no context block. Switched on in the Settings editor while VS Code runs (sent
// as workspace/didChangeConfiguration), the prompt gains totals.py's outline: the check does see
// a context block when there is one. The prompt is read with the extension's
// `pairline.debug.lastPrompt` command, bound to a key here (the palette does not list it).
//
// Environment: as harness.mjs, plus PAIRLINE_PYTHON (an interpreter with pairline installed).

import * as fs from "node:fs";
import * as path from "node:path";

import { WAIT_MS, chord, env, openVSCode, quickOpen, statusLabel, waitForStatus } from "./harness.mjs";

const REPORT = `"""A report over the totals."""

from totals import area, total


def report(items, x, y):
    """Return the total of items and the area of x by y."""
`;
const SETTINGS = { "pairline.server.pythonPath": env("PAIRLINE_PYTHON"), "pairline.context.enable": false };
// How long one look at the prompt waits before asking for a fresh one: a poll, not a timing check.
const LOOK_MS = 5000;

const s = await openVSCode({
  settings: SETTINGS,
  keybindings: [
    { key: "ctrl+alt+shift+p", command: "pairline.debug.lastPrompt" },
    { key: "ctrl+alt+shift+s", command: "workbench.action.openSettings2" },
  ],
  files: { "report.py": REPORT },
});
const { page } = s;

/** Presses Ctrl+Alt+Shift+`key`, one of the keys bound above. */
async function press(key) {
  await page.keyboard.down("Control");
  await page.keyboard.down("Alt");
  await chord(page, "Shift", key);
  await page.keyboard.up("Alt");
  await page.keyboard.up("Control");
}

const showLastPrompt = () => press("KeyP");

/** Types `text` at the end of report.py (open and active). */
async function typeAtEnd(text) {
  await page.click(".editor-instance .monaco-editor .view-lines");
  await chord(page, "Control", "End");
  await page.keyboard.type(text);
}

/** An edit in report.py (which keeps the focus) that asks the server for a completion anew. */
async function editAgain() {
  await page.keyboard.type(" ");
  await page.keyboard.press("Backspace");
}

/** Polls the profile's settings.json (VS Code writes it) until `predicate` holds for it. */
async function waitForUserSettings(predicate) {
  const file = path.join(s.userData, "User", "settings.json");
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    let values = {};
    try {
      values = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      // Being written: read it again.
    }
    if (predicate(values)) return;
    if (Date.now() > deadline) throw new Error(`settings.json never matched:\n${fs.readFileSync(file, "utf8")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Ticks the checkbox of the boolean setting `id` in the Settings editor, as a user would, and
 * closes the editor; returns the description the editor shows (package.json's).
 */
async function switchOn(id) {
  await press("KeyS");
  await page.waitForSelector(".settings-editor .setting-item-contents", { visible: true, timeout: WAIT_MS });
  // The search box has the focus; @id: shows that one setting.
  await page.keyboard.type(`@id:${id}`);
  const row = `.settings-editor .setting-item-contents[data-key="${id}"]`;
  const box = `${row} .setting-value-checkbox`;
  await page.waitForSelector(`${box}[aria-checked="false"]`, { visible: true, timeout: WAIT_MS });
  const description = await page.$eval(`${row} .setting-item-description`, (el) => el.textContent || "");
  await page.click(box);
  await page.waitForSelector(`${box}[aria-checked="true"]`, { timeout: WAIT_MS });
  // The editor writes the change a moment later (closing it first would drop the change); as
  // true is the default, it removes the user's value rather than writing true.
  await waitForUserSettings((values) => (values[id] ?? true) === true);
  await s.shot("02-settings-editor", `${id} ticked in the Settings editor; its description: ${description}`);
  // The Settings editor may be a tab or a modal dialog (newer VS Code): close either.
  const modal = ".monaco-modal-editor-block a.action-label.codicon-close";
  await page.click((await page.$(modal)) ? modal : ".tab.active .tab-actions .action-label");
  await page.waitForSelector(".settings-editor", { hidden: true, timeout: WAIT_MS });
  return description;
}

/**
 * Shows the last prompt (beside report.py) until it satisfies `predicate`, editing report.py
 * between looks so that the server builds a new one; returns it.
 */
async function promptWhere(predicate, what) {
  const deadline = Date.now() + WAIT_MS;
  const shown = () => {
    const group = [...document.querySelectorAll(".editor-group-container")].find((el) =>
      (el.querySelector(".tab.active")?.textContent || "").includes("last prompt"),
    );
    // Monaco keeps its line elements in any order: sort them by their place on screen.
    const lines = [...(group?.querySelectorAll(".view-lines .view-line") || [])];
    lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return group ? lines.map((line) => (line.textContent || "").replace(/\u00a0/g, " ")).join("\n") : null;
  };
  for (;;) {
    await showLastPrompt();
    try {
      const handle = await page.waitForFunction(
        (source, find) => {
          const text = new Function(`return (${find})`)()();
          return text !== null && new Function(`return (${source})`)()(text) ? text : null;
        },
        { timeout: LOOK_MS },
        predicate.toString(),
        shown.toString(),
      );
      return await handle.jsonValue();
    } catch (error) {
      if (error?.name !== "TimeoutError") throw error;
      if (Date.now() > deadline) {
        throw new Error(`the last prompt never ${what}; it read:\n${await page.evaluate(shown)}`, { cause: error });
      }
    }
    await editAgain();
  }
}

let failure;
try {
  await page.waitForSelector(".explorer-folders-view, .explorer-viewlet", { timeout: WAIT_MS });
  await quickOpen(page, "report.py", "report(items");
  await waitForStatus(page, "pairline: ready");
  s.step("report.py open, status bar says ready", { status: await statusLabel(page) });

  // 1. Context off from the start: the prompt for report.py has no context block.
  await typeAtEnd("    return ");
  const off = await promptWhere((text) => text.includes("def report(items") && text.includes("return"), "showed report.py");
  if (off.includes("totals.py")) throw new Error(`context.enable is false, yet the prompt has context:\n${off}`);
  s.step("context off: no context block", { prompt: off });
  await s.shot("01-context-off", "pairline.debug.lastPrompt with pairline.context.enable false: report.py's code, no context block");

  // 2. Switched on in the Settings editor: totals.py's outline comes before the code.
  const description = await switchOn("pairline.context.enable");
  s.step("switched on in the Settings editor", { description });
  await page.click(".tab[aria-label*='report.py']");
  await editAgain();
  const on = await promptWhere((text) => text.includes("Path: totals.py") && text.includes("def report(items"), "showed totals.py's outline");
  s.step("context on: totals.py's outline in the prompt", { prompt: on });
  await s.shot("03-context-on", "the same prompt after pairline.context.enable was ticked: totals.py's outline first");
} catch (error) {
  failure = error;
}
await s.finish(failure);
