--- Server state for the user: model-loading progress and `pairline/status` notifications.
local M = {}

---@class pairline.Status
---@field state "starting"|"loading"|"ready"|"error"|"stopped"
---@field message string
---@field model string

---@type table<integer, pairline.Status> by client id
M.by_client = {}

---@param client_id integer
---@param status pairline.Status
local function set(client_id, status)
  M.by_client[client_id] = status
  vim.api.nvim_exec_autocmds(
    "User",
    { pattern = "PairlineStatus", modeline = false, data = { client_id = client_id, status = status } }
  )
  vim.cmd.redrawstatus({ bang = true, mods = { silent = true } })
end

--- Handler for the server's `pairline/status` notification.
---@param result { state: string, message?: string, model?: string }
---@param ctx lsp.HandlerContext
function M.on_status(_, result, ctx)
  local previous = M.by_client[ctx.client_id]
  local status = { state = result.state, message = result.message or "", model = result.model or "" }
  set(ctx.client_id, status)
  local config = require("pairline.config").options
  if status.state == "error" then
    -- Errors are shown even with notify_progress off: completions have stopped working.
    vim.notify("pairline: " .. status.message, vim.log.levels.ERROR)
  elseif config.notify_progress and status.state == "ready" and previous and previous.state == "loading" then
    vim.notify("pairline: " .. status.message, vim.log.levels.INFO)
  end
end

---@param client_id integer
function M.started(client_id)
  set(client_id, { state = "starting", message = "starting", model = "" })
end

---@param client_id integer
function M.stopped(client_id)
  M.by_client[client_id] = nil
  vim.cmd.redrawstatus({ bang = true, mods = { silent = true } })
end

--- `$/progress` from pairline while the model loads, shown through vim.notify.
---@param ev { data: { client_id: integer, params: lsp.ProgressParams } }
local function on_progress(ev)
  local client = vim.lsp.get_client_by_id(ev.data.client_id)
  if not client or client.name ~= require("pairline.client").name then
    return
  end
  local value = ev.data.params.value
  if type(value) ~= "table" then
    return
  end
  local current = M.by_client[client.id]
  if value.kind ~= "end" and (not current or current.state ~= "ready") then
    set(
      client.id,
      { state = "loading", message = value.message or value.title or "", model = current and current.model or "" }
    )
  end
  if require("pairline.config").options.notify_progress and value.kind == "begin" then
    vim.notify("pairline: " .. (value.message or value.title or "loading"), vim.log.levels.INFO)
  end
end

function M.setup()
  local group = vim.api.nvim_create_augroup("pairline.status", { clear = true })
  vim.api.nvim_create_autocmd("LspProgress", { group = group, callback = on_progress })
end

--- The state of the pairline client attached to `bufnr` (or any pairline client).
---@param bufnr? integer
---@return pairline.Status?
function M.get(bufnr)
  local clients = require("pairline.client").clients({ bufnr = bufnr })
  for _, client in ipairs(clients) do
    if M.by_client[client.id] then
      return M.by_client[client.id]
    end
  end
end

local icons = { starting = "…", loading = "…", ready = "✓", error = "✗" }

--- Statusline component: `pairline ✓`, `pairline …`, `pairline ✗`, or "" when not attached.
---@return string
function M.statusline()
  local installing = require("pairline.install").statusline()
  if installing ~= "" then
    return installing
  end
  local status = M.get(vim.api.nvim_get_current_buf())
  if not status then
    return ""
  end
  local enabled = require("pairline.inline").is_enabled()
  return ("pairline %s%s"):format(icons[status.state] or "?", enabled and "" or " (off)")
end

return M
