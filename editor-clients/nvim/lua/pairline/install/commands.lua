--- Starting, cancelling and waiting for an install (`:Pairline install [cancel]`), and what
--- follows its end: the user told, the plugin switched to the new server, or the old one back.
local paths = require("pairline.install.paths")
local platform = require("pairline.install.platform")
local process = require("pairline.install.process")
local progress = require("pairline.install.progress")
local rollback = require("pairline.install.rollback")
local steps = require("pairline.install.steps")

local M = {}

---@type pairline.InstallRun? the install running now
local current = nil

--- After a successful install, a plugin set up without `cmd` switches to the new server.
local function use_new_server()
  local pairline = require("pairline")
  local config = require("pairline.config")
  if pairline.did_setup and not config.user_cmd then
    config.options.cmd = paths.default_cmd()
    local client = require("pairline.client")
    client.setup()
    -- A reinstall: servers still running the replaced one start again on the new one.
    if #client.clients() > 0 then
      client.restart()
    end
  end
end

---@param run pairline.InstallRun
---@param ok boolean
---@param message string
---@param on_done? fun(ok: boolean, message: string)
local function finish(run, ok, message, on_done)
  progress.finish()
  current = nil
  if ok then
    vim.notify("pairline: " .. message, vim.log.levels.INFO)
    use_new_server()
  else
    if run.touched then
      rollback.roll_back(paths.venv())
    end
    local why = message == "cancelled" and "install cancelled" or ("install failed: " .. message)
    vim.notify("pairline: " .. why .. " (nothing was left behind)", vim.log.levels.ERROR)
    message = why
  end
  progress.emit(ok and "done" or "failed", message)
  if on_done then
    on_done(ok, message)
  end
end

--- Start installing; `on_done(ok, message)` runs when it ends.
---@param on_done? fun(ok: boolean, message: string)
function M.run(on_done)
  if progress.running() then
    vim.notify("pairline: an install is already running (`:Pairline install cancel` stops it)", vim.log.levels.WARN)
    return
  end
  local options = require("pairline.config").options.install
  local run = { cancelled = false, touched = false }
  current = run
  local co = coroutine.create(function()
    -- LuaJIT's pcall lets the install yield; a Lua error still ends in the roll back.
    local done, ok, message = pcall(steps.install, options, run)
    if not done then
      ok, message = false, tostring(ok)
    end
    finish(run, ok, message, on_done)
  end)
  local ok, err = coroutine.resume(co)
  if not ok then
    progress.finish()
    current = nil
    if run.touched then
      rollback.roll_back(paths.venv())
    end
    vim.notify("pairline: install failed: " .. tostring(err), vim.log.levels.ERROR)
  end
end

--- Stop a running install; what it made so far is removed.
function M.cancel()
  if not progress.running() then
    vim.notify("pairline: no install is running")
    return
  end
  if current then
    current.cancelled = true
  end
  process.kill(platform.is_win and "sigkill" or "sigterm")
end

--- `:Pairline install [cancel]`. Without a UI (`nvim --headless "+Pairline install" +qa`, a
--- plugin manager's headless sync) it waits for the end, so quitting does not cut it short.
---@param args string[]
function M.command(args)
  if args[1] == "cancel" then
    M.cancel()
    return
  elseif args[1] then
    vim.notify("pairline: `:Pairline install` takes no argument but `cancel`", vim.log.levels.ERROR)
    return
  end
  M.run()
  if #vim.api.nvim_list_uis() == 0 then
    vim.wait(24 * 3600 * 1000, function()
      return not progress.running()
    end, 200)
  end
end

-- Neovim quitting mid-install: stop pip and leave no half-made virtualenv.
vim.api.nvim_create_autocmd("VimLeavePre", {
  group = vim.api.nvim_create_augroup("pairline.install", { clear = true }),
  callback = function()
    local run = current
    if progress.running() and run then
      run.cancelled = true
      process.kill("sigkill", 5000)
      if run.touched then
        rollback.roll_back(paths.venv())
      end
    end
  end,
})

return M
