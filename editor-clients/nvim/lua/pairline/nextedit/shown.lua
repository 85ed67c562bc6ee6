--- The next edit on screen: showing it (and telling the server), the key that jumps to it and
--- then applies it, and what dismisses it (<Esc>, moving away, an edit).
local item = require("pairline.nextedit.item")
local keys = require("pairline.nextedit.keys")
local pending = require("pairline.pending")
local state = require("pairline.nextedit.state")
local view = require("pairline.nextedit.view")

local M = {}

--- Hide the edit shown in `bufnr` and forget pending requests.
---@param bufnr? integer
function M.dismiss(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local s = state.get(bufnr)
  pending.cancel(s)
  s.edit = nil
  keys.unmap(bufnr)
  view.clear(bufnr)
end

--- Show `e` in `bufnr` and tell the server it is shown.
---@param bufnr integer
---@param e pairline.NextEdit
function M.show(bufnr, e)
  M.dismiss(bufnr)
  state.get(bufnr).edit = e
  keys.map(bufnr, { accept = M.accept, dismiss = M.dismiss })
  view.render(bufnr, e)
  if not e.client:is_stopped() then
    e.client:notify("textDocument/didShowInlineEdit", { item = e.item })
  end
  vim.api.nvim_exec_autocmds("User", {
    pattern = "PairlineNextEdit",
    modeline = false,
    data = vim.tbl_extend("error", item.describe(bufnr, e), { bufnr = bufnr }),
  })
end

--- Jump to the edit shown in `bufnr`; when the cursor is already at its start, apply it (and
--- run its command), after which the edit counts as the user's and the next one is asked for.
---@param bufnr? integer
---@return boolean false when no edit is showing
function M.accept(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local e = state.get(bufnr).edit
  if not e or e.tick ~= vim.b[bufnr].changedtick or bufnr ~= vim.api.nvim_get_current_buf() then
    M.dismiss(bufnr)
    return false
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  if cursor[1] - 1 ~= e.row or cursor[2] ~= e.col then
    -- The jump goes in the jumplist, so <C-o> comes back.
    vim.cmd("normal! m'")
    vim.api.nvim_win_set_cursor(0, { e.row + 1, e.col })
    e.anchor = e.row
    view.render(bufnr, e)
    return true
  end
  M.dismiss(bufnr)
  local lines = vim.split(e.text, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, e.row, e.col, e.end_row, e.end_col, lines)
  -- On the last character of the new text (normal mode has no column past the end).
  local last_row = e.row + #lines - 1
  local last_col = (#lines == 1 and e.col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { last_row + 1, math.max(last_col - 1, #lines == 1 and e.col or 0) })
  -- The change fires TextChanged, which asks for the next edit after the pause.
  require("pairline.accepted").report(e.client, e.item.command, bufnr)
  return true
end

--- The edit shown in `bufnr`, or nil: 0-based byte positions of the text it replaces, that
--- text (`old`) and the new `text`.
---@param bufnr? integer
---@return { row: integer, col: integer, end_row: integer, end_col: integer, text: string, old: string }?
function M.get(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local e = state.get(bufnr).edit
  return e and item.describe(bufnr, e)
end

--- The cursor moved: keep the edit while the cursor stays on its line or on the line it was on
--- when the edit appeared; anywhere else dismisses it.
---@param bufnr integer
function M.on_cursor_moved(bufnr)
  local e = state.get(bufnr).edit
  if not e then
    return
  end
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  if row ~= e.anchor and (row < e.row or row > e.end_row) then
    M.dismiss(bufnr)
  end
end

--- The window scrolled: the off-screen hint may have to appear or go.
---@param bufnr integer
function M.on_scrolled(bufnr)
  local e = state.get(bufnr).edit
  if e then
    view.render(bufnr, e)
  end
end

return M
