--- What next-edit suggestions remember per buffer (the edit shown, the request in flight, the
--- keys mapped), and whether they are on: shared by the modules beside it.
local M = {}

---@class pairline.NextEdit
---@field row integer 0-based start of the replaced text
---@field col integer 0-based byte column
---@field end_row integer
---@field end_col integer
---@field text string what replaces it
---@field tick integer b:changedtick it was proposed for
---@field anchor integer row the cursor may stay on without dismissing it
---@field item table the edit as the server sent it
---@field client vim.lsp.Client

---@class pairline.NextEditState
---@field timer? uv.uv_timer_t
---@field request? { client: vim.lsp.Client, id: integer, token: table }
---@field edit? pairline.NextEdit
---@field mapped? string[] keys mapped in the buffer while the edit shows
---@field insert_tick? integer b:changedtick at InsertEnter

---@type table<integer, pairline.NextEditState>
M.states = {}

M.enabled = true

---@param bufnr integer
---@return pairline.NextEditState
function M.get(bufnr)
  M.states[bufnr] = M.states[bufnr] or {}
  return M.states[bufnr]
end

--- Drop what `bufnr` held (its timer closed): the buffer no longer has next edits.
---@param bufnr integer
function M.forget(bufnr)
  local s = M.states[bufnr]
  if s and s.timer then
    s.timer:close()
  end
  M.states[bufnr] = nil
end

function M.options()
  return require("pairline.config").options.next_edit
end

return M
