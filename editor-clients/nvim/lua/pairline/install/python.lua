--- Finding the Python the server's virtualenv is made with: new enough, and with the venv module.
local advice = require("pairline.install.platform").advice

local M = {}

--- The oldest Python the server supports (pyproject.toml's requires-python).
M.min_python = { 3, 11 }

-- Prints the version, the interpreter's path, and whether venv can make a virtualenv with pip.
local PROBE = [[
import sys
print("%d.%d" % sys.version_info[:2])
print(sys.executable)
try:
    import ensurepip, venv
    print("venv")
except ImportError:
    print("no-venv")
]]

---@class pairline.Python
---@field exe string
---@field version string
---@field venv boolean

---@param version string
local function new_enough(version)
  local major, minor = version:match("^(%d+)%.(%d+)$")
  major, minor = tonumber(major), tonumber(minor)
  return major ~= nil and (major > M.min_python[1] or (major == M.min_python[1] and minor >= M.min_python[2]))
end

--- The first Python >= 3.11 with venv: `install.python` when set, else python3/python and
--- the versioned names on PATH. `run` runs the probe: awaited inside the install coroutine,
--- waited for in :checkhealth.
---@param wanted string?
---@param run fun(argv: string[], opts: vim.SystemOpts): vim.SystemCompleted
---@return pairline.Python? python, string? err
function M.find(wanted, run)
  local candidates = wanted and { wanted } or { "python3", "python", "python3.13", "python3.12", "python3.11" }
  local seen = {}
  for _, name in ipairs(candidates) do
    local exe = vim.fn.exepath(vim.fn.expand(name))
    if exe == "" then
      seen[#seen + 1] = name .. ": not found"
    else
      local result = run({ exe, "-c", PROBE }, { text = true, timeout = 30000 })
      local lines = vim.split(result.stdout or "", "\n", { trimempty = true })
      if result.code ~= 0 or #lines < 3 then
        seen[#seen + 1] = name .. ": does not run"
      elseif not new_enough(lines[1]) then
        seen[#seen + 1] = ("%s: Python %s"):format(name, lines[1])
      elseif lines[3] ~= "venv" then
        return nil, ("%s (Python %s) has no venv module: %s"):format(name, lines[1], advice("venv"))
      else
        return { exe = exe, version = lines[1], venv = true }
      end
    end
  end
  local what = wanted and ("install.python = %q"):format(wanted) or "python3/python on PATH"
  return nil,
    ("no Python %d.%d or newer found (%s; %s): %s, or name one with `install = { python = ... }` in setup()"):format(
      M.min_python[1],
      M.min_python[2],
      what,
      table.concat(seen, ", "),
      advice("python")
    )
end

return M
