--- Asking the server for the next edit (`textDocument/copilotInlineEdit`): after a pause, only
--- in normal mode with no ghost text showing, and only an answer for the buffer as it still is.
local item = require("pairline.nextedit.item")
local pending = require("pairline.pending")
local shown = require("pairline.nextedit.shown")
local state = require("pairline.nextedit.state")

local M = {}

M.METHOD = "textDocument/copilotInlineEdit"

local REQUEST_CANCELLED = -32800
local CONTENT_MODIFIED = -32801

local function normal_mode()
  return vim.api.nvim_get_mode().mode == "n"
end

--- The pairline client for `bufnr` that serves next edits.
---@param bufnr integer
---@return vim.lsp.Client?
local function client_for(bufnr)
  for _, client in ipairs(require("pairline.client").clients({ bufnr = bufnr })) do
    local experimental = client.server_capabilities and client.server_capabilities.experimental
    local pairline = type(experimental) == "table" and experimental.pairline
    if type(pairline) == "table" and pairline.nextEdit then
      return client
    end
  end
end

--- Is an answer asked at `tick` still for `bufnr` as the user sees it?
---@param bufnr integer
---@param tick integer
local function still_current(bufnr, tick)
  return vim.api.nvim_buf_is_valid(bufnr)
    and vim.b[bufnr].changedtick == tick
    and bufnr == vim.api.nvim_get_current_buf()
    and normal_mode()
    and not require("pairline.inline").get(bufnr)
end

--- Ask the server for the next edit in `bufnr` (the current buffer, in normal mode, no ghost
--- text showing).
---@param bufnr integer
function M.request(bufnr)
  if not state.enabled or bufnr ~= vim.api.nvim_get_current_buf() or not normal_mode() then
    return
  end
  if require("pairline.inline").get(bufnr) then
    return
  end
  local client = client_for(bufnr)
  if not client then
    return
  end
  local s = state.get(bufnr)
  pending.cancel(s)
  local tick = vim.b[bufnr].changedtick
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  ---@diagnostic disable-next-line: inject-field
  params.textDocument.version = vim.lsp.util.buf_versions[bufnr]
  local token = {}
  local ok, id = client:request(M.METHOD, params, function(err, result)
    if not s.request or s.request.token ~= token then
      return -- superseded
    end
    s.request = nil
    if err then
      if err.code ~= REQUEST_CANCELLED and err.code ~= CONTENT_MODIFIED then
        vim.lsp.log.warn("pairline copilotInlineEdit", err)
      end
      return
    end
    if not still_current(bufnr, tick) then
      return -- the answer is for a buffer that has moved on
    end
    for _, proposed in ipairs(type(result) == "table" and result.edits or {}) do
      local e = item.from_item(bufnr, client, proposed)
      if e then
        shown.show(bufnr, e)
        return
      end
    end
  end, bufnr)
  if ok and id then
    s.request = { client = client, id = id, token = token }
  end
end

--- Ask after a pause (next_edit.debounce_ms).
---@param bufnr integer
function M.schedule(bufnr)
  if not state.enabled then
    return
  end
  local s = state.get(bufnr)
  s.timer = s.timer or assert(vim.uv.new_timer())
  s.timer:stop()
  s.timer:start(
    state.options().debounce_ms,
    0,
    vim.schedule_wrap(function()
      if vim.api.nvim_buf_is_valid(bufnr) then
        M.request(bufnr)
      end
    end)
  )
end

return M
