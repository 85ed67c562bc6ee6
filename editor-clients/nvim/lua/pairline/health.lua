--- :checkhealth pairline — the server command, its version, the model and the remote endpoint,
--- as `pairline doctor` sees them with the same settings the plugin sends; with no server, what
--- :Pairline install needs. The one place that judges a setup: the install asks it too.
local M = {}

local health = vim.health

---@class pairline.InstallNeeds
---@field root string? the repository to install from
---@field root_err string? why there is none
---@field python pairline.Python? the Python to make the virtualenv with
---@field python_err string? why there is none
---@field compiler string? a C/C++ compiler for llama.cpp's build
---@field cmake string?

--- What :Pairline install needs, as found on this machine. `run` runs the Python probe: the
--- install awaits it in its coroutine, the report waits for it.
---@param wanted string? `install.python`
---@param run? fun(argv: string[], opts: vim.SystemOpts): vim.SystemCompleted
---@return pairline.InstallNeeds
function M.install_needs(wanted, run)
  local install = require("pairline.install")
  local needs = {}
  needs.root, needs.root_err = install.repo_root()
  needs.python, needs.python_err = install.find_python(wanted, run)
  needs.compiler = install.compiler()
  needs.cmake = install.cmake()
  return needs
end

--- The report of what :Pairline install needs, so that it does not fail on the first missing piece.
local function check_install_needs()
  local install = require("pairline.install")
  local needs = M.install_needs(require("pairline.config").options.install.python)
  if needs.root then
    health.ok("repository to install from: " .. needs.root)
  else
    health.error(needs.root_err --[[@as string]])
  end
  if needs.python then
    health.ok(("Python %s for the install: %s"):format(needs.python.version, needs.python.exe))
  else
    health.error(needs.python_err --[[@as string]])
  end
  if needs.compiler then
    health.ok("C/C++ compiler: " .. needs.compiler)
  else
    health.error("no C/C++ compiler (building llama.cpp needs one)", { install.advice("compiler") })
  end
  if needs.cmake then
    health.ok("CMake: " .. needs.cmake)
  else
    health.warn("no CMake (pip will try the cmake package from PyPI)", { install.advice("cmake") })
  end
end

--- The server command: what runs, or exactly what is missing and the command that fixes it.
--- Returns the command to ask `pairline doctor` with, or nil.
---@return string[]?
local function check_server()
  local install = require("pairline.install")
  local config = require("pairline.config")
  if config.user_cmd then
    local cmd = config.options.cmd
    if vim.fn.executable(cmd[1]) == 1 then
      health.ok(("server command: %s"):format(table.concat(cmd, " ")))
      return cmd
    end
    health.error(("server command not found: %q (`cmd` in setup())"):format(cmd[1]), {
      "fix `cmd` in setup(), or remove it to use `pairline` on PATH or the server `:Pairline install` sets up",
    })
    return nil
  end
  -- Looked up again: an install may have finished since setup().
  local cmd, source = install.default_cmd()
  if source == "path" then
    health.ok(
      ("server command: %s (`pairline` on PATH: %s)"):format(table.concat(cmd, " "), vim.fn.exepath("pairline"))
    )
    return cmd
  elseif source == "managed" then
    health.ok(("server command: %s (set up by :Pairline install)"):format(table.concat(cmd, " ")))
    local newer = install.stale()
    if newer then
      health.warn(("the installed server is older than the repository's pairline %s"):format(newer), {
        "run :Pairline install to update it",
      })
    end
    return cmd
  end
  if install.running() then
    health.warn(
      "the server is being installed (" .. install.progress.step .. "); run :checkhealth pairline again when it ends"
    )
    return nil
  end
  health.error(("no server: `pairline` is not on PATH and none is installed in %s"):format(install.venv()), {
    "run :Pairline install (builds the server from this repository; the llama.cpp build takes about 10 minutes on 2 cores)",
    "or install pairline yourself and set `cmd` in setup()",
  })
  check_install_needs()
  return nil
end

--- `pairline doctor --json` for the configured command: the `serve` argument swapped for `doctor`.
---@param cmd string[]
---@param settings table
---@return string[]? argv, string? settings_file
local function doctor_argv(cmd, settings)
  local argv = {}
  local found = false
  for _, arg in ipairs(cmd) do
    if arg == "serve" and not found then
      found = true
      vim.list_extend(argv, { "doctor", "--json" })
    elseif not found then
      argv[#argv + 1] = arg
    end
  end
  if not found then
    return nil
  end
  local file
  if next(settings) then
    file = vim.fn.tempname() .. ".json"
    vim.fn.writefile({ vim.json.encode(settings) }, file)
    vim.list_extend(argv, { "--config", file })
  end
  return argv, file
end

local function check_clients()
  local clients = require("pairline.client").clients()
  if #clients == 0 then
    health.info("no pairline client running (open a configured filetype to start one)")
    return
  end
  for _, client in ipairs(clients) do
    local info = client.server_info or {}
    local status = require("pairline.status").by_client[client.id]
    local line = ("client %d (%s %s, root %s)"):format(
      client.id,
      info.name or "?",
      info.version or "?",
      client.root_dir or "-"
    )
    if status and status.state == "ready" then
      health.ok(line .. ": model ready: " .. status.message)
    elseif status and status.state == "error" then
      health.error(line .. ": " .. status.message)
    else
      health.warn(line .. ": " .. (status and status.state .. " " .. status.message or "no status yet"))
    end
  end
end

function M.check()
  health.start("pairline")
  if vim.fn.has("nvim-0.11") == 1 then
    health.ok(
      ("Neovim %s (%s inline completion)"):format(
        tostring(vim.version()),
        require("pairline.inline").builtin and "built-in" or "pairline's own"
      )
    )
  else
    health.error("Neovim 0.11 or newer is required")
  end
  if not require("pairline").did_setup then
    health.warn('require("pairline").setup() has not been called')
  end
  local o = require("pairline.config").options
  local cmd = check_server()
  if not cmd then
    return
  end

  local argv, file = doctor_argv(cmd, o.settings)
  if not argv then
    health.info("`cmd` has no `serve` argument: cannot run `pairline doctor`")
  else
    local ok, result = pcall(function()
      return vim.system(argv, { text = true }):wait(120000)
    end)
    if file then
      os.remove(file)
    end
    local report = ok and result.stdout and select(2, pcall(vim.json.decode, result.stdout))
    if type(report) ~= "table" or type(report.checks) ~= "table" then
      health.error(
        "`" .. table.concat(argv, " ") .. "` failed: " .. vim.trim(ok and (result.stderr or "") or tostring(result))
      )
    else
      for _, check in ipairs(report.checks) do
        local line = ("%s: %s"):format(check.name, check.detail)
        if check.ok then
          health.ok(line)
        elseif check.required then
          health.error(line)
        else
          health.warn(line)
        end
      end
    end
  end

  health.start("pairline: running clients")
  check_clients()
end

return M
