--- :checkhealth pairline — the server command, its version, the model and the remote endpoint,
--- as `pairline doctor` sees them with the same settings the plugin sends.
local M = {}

local health = vim.health

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
  local cmd = require("pairline.install").check_health()
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
