--- Next-edit suggestions: after an edit (a change in normal mode, or leaving insert mode with
--- changes), a debounced `textDocument/copilotInlineEdit` request; the first proposed edit is
--- drawn at its place (the text it replaces struck through, the new text as virtual text) and a
--- hint near the cursor says where when it is off screen. A key jumps there, a second press
--- applies it and runs its command. <Esc>, any edit or moving away dismisses it. Normal mode
--- only, so it never competes with insert-mode ghost text.
---
--- This module is the API and the wiring (which events do what, on/off); the work is in the
--- modules beside it: request (asking), item (the answer as a buffer edit), shown (the edit on
--- screen: show, jump/apply, dismiss), view (drawing), keys, state.
local item = require("pairline.nextedit.item")
local request = require("pairline.nextedit.request")
local shown = require("pairline.nextedit.shown")
local state = require("pairline.nextedit.state")
local view = require("pairline.nextedit.view")

local M = {}

M.METHOD = request.METHOD
M.ns = view.ns

M.to_bytes = item.to_bytes
M.from_item = item.from_item
M.request = request.request
M.schedule = request.schedule
M.show = shown.show
M.dismiss = shown.dismiss
M.accept = shown.accept
M.get = shown.get

--- Start next-edit suggestions in `bufnr`.
---@param bufnr integer
function M.attach(bufnr)
  local group = vim.api.nvim_create_augroup("pairline.nextedit." .. bufnr, { clear = true })
  local function on(events, callback)
    vim.api.nvim_create_autocmd(events, { group = group, buffer = bufnr, callback = callback })
  end
  on("TextChanged", function()
    shown.dismiss(bufnr)
    request.schedule(bufnr)
  end)
  on("InsertEnter", function()
    shown.dismiss(bufnr)
    state.get(bufnr).insert_tick = vim.b[bufnr].changedtick
  end)
  on("InsertLeave", function()
    if state.get(bufnr).insert_tick ~= vim.b[bufnr].changedtick then
      request.schedule(bufnr)
    end
  end)
  on("CursorMoved", function()
    shown.on_cursor_moved(bufnr)
  end)
  on("WinScrolled", function()
    shown.on_scrolled(bufnr)
  end)
  on({ "BufLeave", "TextChangedI" }, function()
    shown.dismiss(bufnr)
  end)
end

---@param bufnr integer
function M.detach(bufnr)
  shown.dismiss(bufnr)
  pcall(vim.api.nvim_del_augroup_by_name, "pairline.nextedit." .. bufnr)
  state.forget(bufnr)
end

---@return boolean
function M.is_enabled()
  return state.enabled
end

--- Turn next-edit suggestions on or off (default: flip); off hides any shown.
---@param on? boolean
function M.toggle(on)
  if on == nil then
    on = not state.enabled
  end
  state.enabled = on
  if not on then
    for bufnr in pairs(state.states) do
      shown.dismiss(bufnr)
    end
  end
end

--- The pairline client's buffers get next edits while it is attached.
---@param group integer
---@param event string
---@param callback fun(bufnr: integer)
local function on_pairline_client(group, event, callback)
  vim.api.nvim_create_autocmd(event, {
    group = group,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == require("pairline.client").name then
        callback(ev.buf)
      end
    end,
  })
end

function M.setup()
  state.enabled = state.options().enabled
  view.set_highlights()
  local group = vim.api.nvim_create_augroup("pairline.nextedit", { clear = true })
  vim.api.nvim_create_autocmd("ColorScheme", { group = group, callback = view.set_highlights })
  on_pairline_client(group, "LspAttach", M.attach)
  on_pairline_client(group, "LspDetach", M.detach)
end

return M
