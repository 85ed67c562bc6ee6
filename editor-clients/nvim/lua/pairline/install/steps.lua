--- One install from start to end, inside a coroutine: what it needs (the verdict of the health
--- check), the virtualenv, pip, a check that the server starts, and the marker that says done.
local advice = require("pairline.install.platform").advice
local paths = require("pairline.install.paths")
local pip = require("pairline.install.pip")
local process = require("pairline.install.process")
local progress = require("pairline.install.progress")
local rollback = require("pairline.install.rollback")

local M = {}

---@class pairline.InstallRun
---@field cancelled boolean asked to stop (`:Pairline install cancel`, Neovim quitting)
---@field touched boolean has begun changing the virtualenv (so a failure must roll back)

--- The prerequisites, or why the install cannot go on.
---@param opts { python: string?, pip_args: string[] }
---@param run pairline.InstallRun
---@return pairline.InstallNeeds? needs, string? err
local function check(opts, run)
  progress.step("checking", "checking what the install needs (Python >= 3.11, a C/C++ compiler, CMake)")
  local needs = require("pairline.health").install_needs(opts.python, process.await)
  if not needs.root then
    return nil, needs.root_err
  elseif run.cancelled then
    return nil, "cancelled"
  elseif not needs.python then
    return nil, needs.python_err
  end
  -- pip args may name prebuilt wheels (--find-links, an index): then no build tools are needed.
  local prebuilt = #opts.pip_args > 0
  if not needs.compiler then
    if not prebuilt then
      return nil, "no C/C++ compiler found, needed to build llama.cpp: " .. advice("compiler")
    end
    vim.notify("pairline: no C/C++ compiler found; relying on your pip args for a prebuilt llama-cpp-python")
  end
  if not needs.cmake and not prebuilt then
    -- llama-cpp-python's build backend fetches CMake from PyPI when none is installed.
    vim.notify("pairline: no CMake found; pip will try the cmake package. If the build fails: " .. advice("cmake"))
  end
  return needs
end

---@param opts { python: string?, pip_args: string[], env: table<string, string> }
---@param run pairline.InstallRun
---@return boolean ok, string message
function M.install(opts, run)
  local needs, err = check(opts, run)
  if not needs then
    return false, err --[[@as string]]
  end
  local python = needs.python --[[@as pairline.Python]]
  local root = needs.root --[[@as string]]

  local venv = paths.venv()
  vim.fn.mkdir(vim.fs.dirname(venv), "p")
  rollback.clean_leftovers(venv)
  -- From here on a failure rolls back: removes the new virtualenv, puts back the old one.
  run.touched = true
  local ok
  ok, err = rollback.set_aside(venv)
  if not ok then
    run.touched = false
    return false, err --[[@as string]]
  end

  progress.step("virtualenv", ("creating a virtualenv with Python %s (%s)"):format(python.version, python.exe))
  local result = process.await({ python.exe, "-m", "venv", venv })
  if run.cancelled then
    return false, "cancelled"
  elseif result.code ~= 0 then
    return false, ("`%s -m venv` failed: %s"):format(python.exe, vim.trim(result.stderr or ""))
  end

  progress.step(
    "pip",
    "pip install pairline from " .. root .. " (building llama.cpp is the long part: about 10 minutes on 2 cores)"
  )
  ok, err = pip.install(venv, root, opts, run)
  if not ok then
    return false, err --[[@as string]]
  end

  progress.step("verifying", "checking the installed server")
  result = process.await({ paths.venv_python(venv), "-m", "pairline", "--version" })
  if run.cancelled then
    return false, "cancelled"
  elseif result.code ~= 0 then
    return false, "the installed server does not start: " .. vim.trim((result.stderr or "") .. (result.stdout or ""))
  end
  local info = { version = paths.repo_version(root), source = root, python = python.exe }
  vim.fn.writefile({ vim.json.encode(info) }, vim.fs.joinpath(venv, paths.MARKER))
  rollback.commit(venv)
  return true, vim.trim(result.stdout or "pairline") .. " installed in " .. venv
end

return M
