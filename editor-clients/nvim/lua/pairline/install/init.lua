--- :Pairline install — the server set up by the plugin: a virtualenv in
--- `stdpath("data")/pairline/venv` with pairline installed by pip from the repository this
--- plugin lives in. Asynchronous, with progress; a failed or cancelled install leaves nothing
--- behind (a previous working install is put back).
---
--- This module is the API the rest of the plugin uses; the work is in the modules beside it:
--- paths (where things live), platform (build tools, advice), python (finding one), process
--- (child processes), progress (what the user sees), pip, rollback, steps (one install) and
--- commands (start, cancel, wait). What an install needs is checked by pairline.health.
local commands = require("pairline.install.commands")
local paths = require("pairline.install.paths")
local platform = require("pairline.install.platform")
local process = require("pairline.install.process")
local progress = require("pairline.install.progress")
local python = require("pairline.install.python")

---@class pairline.install
---@field progress { step: string, line: string }? what the running install is doing, or nil
local M = {}

--- The oldest Python the server supports (pyproject.toml's requires-python).
M.min_python = python.min_python

M.venv = paths.venv
M.repo_root = paths.repo_root
M.installed = paths.installed
M.stale = paths.stale
M.default_cmd = paths.default_cmd

M.advice = platform.advice
M.compiler = platform.compiler
M.cmake = platform.cmake

--- The first Python >= 3.11 with venv (`install.python` when set). `run` runs the probe;
--- by default it is waited for, so outside the install coroutine this blocks.
---@param wanted string?
---@param run? fun(argv: string[], opts: vim.SystemOpts): vim.SystemCompleted
---@return pairline.Python? python, string? err
function M.find_python(wanted, run)
  return python.find(wanted, run or process.wait)
end

M.running = progress.running
M.statusline = progress.statusline

M.run = commands.run
M.cancel = commands.cancel
M.command = commands.command

-- `progress` is read live from its module: it is replaced at every step, so a copy taken here
-- would go stale.
return setmetatable(M, {
  __index = function(_, key)
    if key == "progress" then
      return progress.current
    end
  end,
})
