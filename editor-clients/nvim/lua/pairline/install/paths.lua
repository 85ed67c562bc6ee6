--- Where the managed server lives (a virtualenv in `stdpath("data")/pairline/venv`), the
--- repository it is installed from, and which server command that leaves the plugin with.
local M = {}

local is_win = vim.fn.has("win32") == 1

-- Written into the virtualenv once everything worked: a virtualenv without it is half-made.
M.MARKER = "pairline-installed.json"

--- Where the managed server lives.
---@return string
function M.venv()
  return vim.fs.joinpath(vim.fn.stdpath("data"), "pairline", "venv")
end

---@param venv string
---@return string
function M.venv_python(venv)
  return is_win and vim.fs.joinpath(venv, "Scripts", "python.exe") or vim.fs.joinpath(venv, "bin", "python")
end

--- pip's whole output of the last install, kept for when a short error is not enough.
---@return string
function M.log_path()
  return vim.fs.joinpath(vim.fn.stdpath("log"), "pairline-install.log")
end

--- The repository holding this plugin (lua/pairline/install/paths.lua is six levels below it),
--- or nil with the reason when the plugin was copied out of a clone.
---@return string? root, string? err
function M.repo_root()
  local here = debug.getinfo(1, "S").source:sub(2)
  local root = vim.fn.fnamemodify(here, ":p:h:h:h:h:h:h")
  local pyproject = vim.fs.joinpath(root, "pyproject.toml")
  local ok, lines = pcall(vim.fn.readfile, pyproject)
  if ok and vim.iter(lines):any(function(l)
    return l:match('^name%s*=%s*"pairline"')
  end) then
    return root
  end
  return nil,
    ("the plugin is not inside a pairline repository (no pairline pyproject.toml at %s): point the plugin at editor-clients/nvim of a clone, or install the server yourself and set `cmd`"):format(
      root
    )
end

--- pairline's version in the repository (pyproject.toml), to tell a stale install.
---@param root string
---@return string?
function M.repo_version(root)
  local ok, lines = pcall(vim.fn.readfile, vim.fs.joinpath(root, "pyproject.toml"))
  for _, l in ipairs(ok and lines or {}) do
    local v = l:match('^version%s*=%s*"([^"]+)"')
    if v then
      return v
    end
  end
end

---@class pairline.Installed
---@field python string The virtualenv's interpreter.
---@field version string? pairline's version when installed.
---@field source string The repository it was installed from.

--- The finished managed install, or nil.
---@return pairline.Installed?
function M.installed()
  local venv = M.venv()
  local ok, lines = pcall(vim.fn.readfile, vim.fs.joinpath(venv, M.MARKER))
  if not ok then
    return nil
  end
  local decoded, info = pcall(vim.json.decode, table.concat(lines, "\n"))
  local python = M.venv_python(venv)
  if not decoded or type(info) ~= "table" or vim.fn.executable(python) ~= 1 then
    return nil
  end
  return { python = python, version = info.version, source = info.source or "?" }
end

--- The repository's version when it differs from the installed one (an update is due).
---@return string?
function M.stale()
  local installed = M.installed()
  local root = M.repo_root()
  local want = root and M.repo_version(root)
  if installed and want and installed.version ~= want then
    return want
  end
end

--- The command the plugin runs when `cmd` is not set: `pairline` on PATH first, then the
--- managed install, else `pairline serve` (which :checkhealth then explains).
---@return string[] cmd, "path"|"managed"|"missing" source
function M.default_cmd()
  if vim.fn.executable("pairline") == 1 then
    return { "pairline", "serve" }, "path"
  end
  local installed = M.installed()
  if installed then
    -- `python -m` rather than the venv's `pairline` script: no shebang to go stale.
    return { installed.python, "-m", "pairline", "serve" }, "managed"
  end
  return { "pairline", "serve" }, "missing"
end

return M
