-- :Pairline install that cannot or does not finish leaves nothing half-installed:
-- no Python >= 3.11 on PATH (a clear error, no virtualenv), and a reinstall cancelled while pip
-- runs (the new virtualenv removed, the previous install put back).
-- $PATH holds no Python >= 3.11; $PAIRLINE_TEST_PYTHON names one for the cancelled install.
package.path = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/?.lua;" .. package.path
local H = require("helpers")

local function said()
  return table.concat(
    vim.tbl_map(function(n)
      return n.msg
    end, H.lua("return _G.notifications")),
    "\n"
  )
end

H.run(function()
  H.start()
  local venv = H.lua("return require('pairline.install').venv()")
  H.check(vim.startswith(venv, os.getenv("XDG_DATA_HOME")), "the venv lives in $XDG_DATA_HOME: " .. venv)

  -- :checkhealth names the missing Python and what to install.
  local report = H.checkhealth()
  H.check(report:find("ERROR no Python 3.11 or newer found", 1, true), "the missing Python reported:\n" .. report)
  H.check(report:find("install Python 3.11 or newer", 1, true), "what to install:\n" .. report)

  -- The command itself, as typed (a session without a UI waits for the end).
  H.lua("vim.cmd('Pairline install')")
  local messages = said()
  H.check(messages:find("install failed: no Python 3.11 or newer found", 1, true), "a clear error:\n" .. messages)
  H.check(messages:find("install Python 3.11 or newer", 1, true), "what to install:\n" .. messages)
  H.check(messages:find("`install = { python = ... }`", 1, true), "the option to name one:\n" .. messages)
  H.check(not vim.uv.fs_stat(venv), "no virtualenv left: " .. venv)
  H.check(not vim.uv.fs_stat(venv .. ".old"), "nothing set aside")

  -- A previous install (the marker makes it one), then a reinstall cancelled while pip runs.
  local python = os.getenv("PAIRLINE_TEST_PYTHON")
  H.check(python, "$PAIRLINE_TEST_PYTHON names a Python >= 3.11")
  vim.fn.mkdir(venv .. "/bin", "p")
  vim.uv.fs_symlink(python, venv .. "/bin/python")
  local marker = { '{"version": "0.0.1", "source": "earlier"}' }
  vim.fn.writefile(marker, venv .. "/pairline-installed.json")
  -- A local llama-cpp-python wheel: no compiler needed, and pip runs long enough to cancel.
  local pip_args = vim.json.decode(os.getenv("PAIRLINE_TEST_PIP_ARGS") or "[]")
  H.lua("require('pairline').setup({ install = { python = ..., pip_args = select(2, ...) } })", python, pip_args)
  H.eq(
    H.lua("return require('pairline.config').options.cmd"),
    { venv .. "/bin/python", "-m", "pairline", "serve" },
    "the previous install is used"
  )
  H.lua([[
    _G.install_result = nil
    require("pairline.install").run(function(ok, message) _G.install_result = { ok = ok, message = message } end)
  ]])
  H.wait("pip to start", function()
    local progress = H.lua("return require('pairline.install').progress")
    return progress and progress.step == "pip"
  end)
  H.check(vim.uv.fs_stat(venv .. ".old"), "the previous install is set aside while the new one is made")
  H.lua("vim.cmd('Pairline install cancel')")
  local result = H.wait("the install to end", function()
    return H.lua("return _G.install_result")
  end)
  H.eq(result, { ok = false, message = "install cancelled" }, "the result")
  H.check(said():find("install cancelled (nothing was left behind)", 1, true), "the user is told:\n" .. said())
  H.eq(vim.fn.readfile(venv .. "/pairline-installed.json"), marker, "the previous install is back")
  H.check(not vim.uv.fs_stat(venv .. "/pyvenv.cfg"), "the new virtualenv is gone")
  H.check(not vim.uv.fs_stat(venv .. ".old"), "nothing set aside any more")
end)
