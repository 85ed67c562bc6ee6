-- :Pairline install into an empty data directory ($XDG_DATA_HOME), with no `pairline` on PATH
-- and no `cmd`: :checkhealth says what is missing and how to fix it, the install runs with
-- progress, then the plugin starts the installed server and ghost text appears.
-- $PAIRLINE_TEST_PIP_ARGS (a JSON list) reaches pip through the `install.pip_args` option.
package.path = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/?.lua;" .. package.path
local H = require("helpers")

local LINE = "    return [(x - m) / s for"

H.run(function()
  H.check(not os.getenv("PAIRLINE_SERVER_CMD"), "this spec runs without $PAIRLINE_SERVER_CMD")
  H.check(vim.fn.executable("pairline") == 0, "no pairline on PATH")
  local pip_args = vim.json.decode(os.getenv("PAIRLINE_TEST_PIP_ARGS") or "[]")
  H.start({ install = { pip_args = pip_args } })
  local venv = H.lua("return require('pairline.install').venv()")
  H.check(vim.startswith(venv, os.getenv("XDG_DATA_HOME")), "the venv lives in $XDG_DATA_HOME: " .. venv)
  H.eq(H.lua("return require('pairline.config').options.cmd"), { "pairline", "serve" }, "cmd before the install")

  -- Before: the report names what is missing and the command that fixes it.
  local before = H.checkhealth()
  for _, want in ipairs({
    "ERROR no server: `pairline` is not on PATH and none is installed in " .. venv,
    "run :Pairline install",
    "OK repository to install from: " .. H.repo_root,
    "OK C/C++ compiler: ",
  }) do
    H.check(before:find(want, 1, true), ("%q in the report before:\n%s"):format(want, before))
  end
  H.check(before:find("OK Python 3%.1%d+ for the install: "), "a Python for the install:\n" .. before)
  H.check(not before:find("pip install pairline", 1, true), "no advice to pip install an unpublished package")

  -- The install, as `:Pairline install` starts it in a session with a UI: in the background.
  H.lua([[
    _G.install_events = {}
    vim.api.nvim_create_autocmd("User", {
      pattern = "PairlineInstall",
      callback = function(ev) table.insert(_G.install_events, ev.data) end,
    })
    _G.install_result = nil
    require("pairline.install").run(function(ok, message) _G.install_result = { ok = ok, message = message } end)
  ]])
  -- The status line shows it while it runs.
  local shown = H.lua("return require('pairline').statusline()")
  H.check(shown:find("pairline: installing", 1, true), "the status line shows the install: " .. shown)
  local result = H.wait("the install to end", function()
    return H.lua("return _G.install_result")
  end, 1800000)
  H.check(result.ok, "install failed: " .. result.message)
  H.check(result.message:find("installed in " .. venv, 1, true), "the result names the venv: " .. result.message)

  -- Progress: every step, and pip's own lines, reached the user.
  local said = vim.tbl_map(function(n)
    return n.msg
  end, H.lua("return _G.notifications"))
  local all = table.concat(said, "\n")
  for _, want in ipairs({
    "pairline: checking what the install needs",
    "pairline: creating a virtualenv with Python 3.",
    "building llama.cpp is the long part",
    "pairline: pip: Successfully installed",
    "pairline: checking the installed server",
    "installed in " .. venv,
  }) do
    H.check(all:find(want, 1, true), ("%q notified:\n%s"):format(want, all))
  end
  local events = H.lua("return _G.install_events")
  H.check(#events > 5, "PairlineInstall events while it ran")
  H.eq(events[#events].state, "done", "the last PairlineInstall event")
  H.eq(H.lua("return require('pairline').statusline()"), "", "the status line after the install")

  -- The plugin now runs the installed server.
  local python = venv .. "/bin/python"
  H.eq(
    H.lua("return require('pairline.config').options.cmd"),
    { python, "-m", "pairline", "serve" },
    "cmd after the install"
  )
  local bufnr = H.open_sample()
  H.lua("vim.api.nvim_win_set_cursor(0, { 36, 0 })")
  H.input("0C" .. LINE)
  local ghost = H.wait("ghost text", function()
    return H.call("ghost", bufnr)
  end)
  H.check(ghost.text and ghost.text ~= "", "the ghost text has text")
  H.input("<Esc>")

  -- After: all OK.
  local after = H.checkhealth()
  H.check(not after:find("ERROR", 1, true), "no ERROR in the report after:\n" .. after)
  H.check(not after:find("WARNING", 1, true), "no WARNING in the report after:\n" .. after)
  for _, want in ipairs({
    "OK server command: " .. python .. " -m pairline serve (set up by :Pairline install)",
    "OK model: ",
    "model ready",
  }) do
    H.check(after:find(want, 1, true), ("%q in the report after:\n%s"):format(want, after))
  end
end)
