--- Putting accepted text into the buffer: the one way every accept that is pairline's own (all
--- of them on 0.11, partial ones on 0.12) changes the buffer and moves the cursor.
local M = {}

--- Replace the text from (row, col) to (end_row, end_col) of `bufnr` (by default nothing: an
--- insert at (row, col)) with `text`, and put the cursor of the current window right after it.
---@param bufnr integer
---@param row integer 0-based
---@param col integer 0-based byte column
---@param text string
---@param end_row? integer
---@param end_col? integer
---@return integer row, integer col 0-based: the cursor after the text
function M.text(bufnr, row, col, text, end_row, end_col)
  local lines = vim.split(text, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row, col, end_row or row, end_col or col, lines)
  local last_row = row + #lines - 1
  local last_col = (#lines == 1 and col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { last_row + 1, last_col })
  return last_row, last_col
end

return M
