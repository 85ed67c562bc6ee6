--- `pip install` of the repository into the virtualenv: its lines reach the progress report as
--- they come, its whole output goes to a log, and a failure is put in words a user can act on.
local advice = require("pairline.install.platform").advice
local paths = require("pairline.install.paths")
local process = require("pairline.install.process")
local progress = require("pairline.install.progress")

local M = {}

--- The reason pip failed, in words a user can act on, from its output.
---@param output string
---@return string
local function failure(output)
  if output:find("CMAKE_C_COMPILER", 1, true) or output:find("CMAKE_CXX_COMPILER", 1, true) then
    return "building llama.cpp found no C/C++ compiler: " .. advice("compiler")
  end
  local lower = output:lower()
  for _, missing in ipairs({
    "cmake: not found",
    "cmake was not found",
    "cmake not found",
    "'cmake'",
    "could not find cmake",
  }) do
    if lower:find(missing, 1, true) then
      return "building llama.cpp found no CMake: " .. advice("cmake")
    end
  end
  local lines = vim.split(vim.trim(output), "\n")
  return "pip install failed:\n" .. table.concat(vim.list_slice(lines, math.max(1, #lines - 15)), "\n")
end

--- Install the repository at `root` with the virtualenv's pip; inside the install coroutine.
---@param venv string
---@param root string
---@param opts { pip_args: string[], env: table<string, string> }
---@param run pairline.InstallRun
---@return boolean ok, string? err
function M.install(venv, root, opts, run)
  local output = {}
  local partial = ""
  local function on_output(_, data)
    if not data then
      return
    end
    output[#output + 1] = data
    local lines = vim.split(partial .. data, "\n")
    partial = table.remove(lines)
    vim.schedule(function()
      for _, line in ipairs(lines) do
        progress.pip_line(line)
      end
    end)
  end
  local argv = { paths.venv_python(venv), "-m", "pip", "install", "--progress-bar", "off" }
  vim.list_extend(argv, opts.pip_args)
  argv[#argv + 1] = root
  local result = process.await(argv, {
    text = true,
    stdout = on_output,
    stderr = on_output,
    -- The build's own output is quiet unless it fails; pip says "still running" meanwhile.
    env = vim.tbl_extend("force", { PIP_DISABLE_PIP_VERSION_CHECK = "1", PYTHONUNBUFFERED = "1" }, opts.env),
  })
  local text = table.concat(output)
  local log = paths.log_path()
  pcall(vim.fn.writefile, vim.split(table.concat(argv, " ") .. "\n" .. text, "\n"), log)
  if run.cancelled then
    return false, "cancelled"
  elseif result.code ~= 0 then
    return false, failure(text) .. "\n(full log: " .. log .. ")"
  end
  return true
end

return M
