// End to end in a real VS Code: the extension sets up its own server. A fresh profile holds only
// the .vsix, and code-server runs with a PATH that has no `pairline` on it.
//
// PAIRLINE_E2E_SCENARIO=setup: accept the set-up offer; the progress notification shows its steps
// and pip's lines; the status bar reaches ready; ghost text from the real model appears in
// main.py. PAIRLINE_E2E_WHEELS, when set, is given to pip with --find-links (prebuilt wheels, so
// llama.cpp is not compiled again); the extension's own set-up code runs as it would for a user.
//
// PAIRLINE_E2E_SCENARIO=no-python: the same offer accepted with pairline.server.setupPython
// naming a Python that does not exist (VS Code's server takes PATH from the login shell, so PATH
// alone cannot hide Python): an error that says what to install, the status bar says the server
// is not set up, no virtualenv is left.
//
// Environment: as harness.mjs, plus PAIRLINE_E2E_PATH (code-server's PATH).

import * as fs from "node:fs";
import * as path from "node:path";

import {
  clickNotificationButton,
  env,
  ghostTextAfterTyping,
  openMainPy,
  openVSCode,
  statusLabel,
  waitForNotification,
  waitForStatus,
} from "./harness.mjs";

const SCENARIO = env("PAIRLINE_E2E_SCENARIO");
const WHEELS = process.env.PAIRLINE_E2E_WHEELS;
// pip may compile llama.cpp when no wheel is given: a hang guard, not a speed check.
const SETUP_MS = 40 * 60_000;
const OFFER = "no pairline server was found";

const s = await openVSCode({
  settings: {
    ...(WHEELS ? { "pairline.server.installArgs": ["--prefer-binary", "--find-links", WHEELS] } : {}),
    ...(SCENARIO === "no-python" ? { "pairline.server.setupPython": path.join(env("PAIRLINE_E2E_TOOLS"), "no-such-python", "python3") } : {}),
  },
  PATH: env("PAIRLINE_E2E_PATH"),
});
const { page } = s;
const venv = path.join(s.userData, "User", "globalStorage", "pairline.pairline", "venv");

/** Records every notification text shown from now on, so passing progress steps are not missed. */
async function watchNotifications() {
  await page.evaluate(() => {
    window.__pairlineSeen = [];
    setInterval(() => {
      for (const el of document.querySelectorAll(".notification-toast")) {
        const text = (el.querySelector(".notification-list-item-message")?.textContent || "").replace(/\s+/g, " ").trim();
        if (text && !window.__pairlineSeen.includes(text)) window.__pairlineSeen.push(text);
      }
    }, 100);
  });
}

let failure;
try {
  const offer = await waitForNotification(page, OFFER);
  s.step("set-up offered", { offer });
  await s.shot("setup-01-offer", `the set-up offer on a fresh profile: "${offer}"`);
  await watchNotifications();
  await clickNotificationButton(page, OFFER, "Set Up");

  if (SCENARIO === "setup") {
    const progress = await waitForNotification(page, "setting up the server");
    await s.shot("setup-02-progress", `the progress notification: "${progress}"`);
    await waitForStatus(page, "pairline: ready", SETUP_MS);
    const seen = await page.evaluate(() => window.__pairlineSeen);
    const steps = seen.filter((text) => text.includes("setting up the server"));
    s.step("set up, status bar says ready", { status: await statusLabel(page), progress: steps });
    if (!fs.existsSync(path.join(venv, "bin", "python"))) throw new Error(`no virtualenv at ${venv}`);

    await openMainPy(page);
    const typed = "    return ";
    const ghost = await ghostTextAfterTyping(page, typed);
    s.step("ghost text shown", { ghost });
    await s.shot("setup-03-ghost-text", `ghost text from the set-up server after typing "${typed}": "${ghost}"`);
  } else if (SCENARIO === "no-python") {
    const error = await waitForNotification(page, "needs Python 3.11 or newer");
    await waitForStatus(page, "pairline: server not set up");
    s.step("no Python: error shown", { error, status: await statusLabel(page), venvLeft: fs.existsSync(venv) });
    await s.shot("nopython-02-error", `the error when no Python 3.11+ is found: "${error}"`);
    if (fs.existsSync(venv)) throw new Error(`a virtualenv was left at ${venv}`);
  } else {
    throw new Error(`unknown PAIRLINE_E2E_SCENARIO ${SCENARIO}`);
  }
} catch (error) {
  failure = error;
}
await s.finish(failure);
