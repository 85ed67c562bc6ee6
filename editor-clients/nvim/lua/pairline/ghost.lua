--- Ghost text: a suggestion drawn with extmarks, never written into the buffer until accepted.
local M = {}

M.ns = vim.api.nvim_create_namespace("pairline.ghost")

--- Draw `text` at (row, col): the first line inline (or overlaid) at the cursor, the others as
--- virtual lines below it.
---@param bufnr integer
---@param row integer 0-based
---@param col integer 0-based byte column
---@param text string
function M.show(bufnr, row, col, text)
  M.clear(bufnr)
  local o = require("pairline.config").options.ghost_text
  local lines = vim.split(text, "\n", { plain = true })
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { lines[i], o.hl_group } }
  end
  local opts = {
    virt_text = { { lines[1], o.hl_group } },
    virt_text_pos = o.position,
    -- Its own colour only: "combine" would pick up the bold of a keyword just before it.
    hl_mode = "replace",
    -- Keep the mark on the cursor side when text is typed in front of it.
    right_gravity = false,
  }
  if #virt_lines > 0 then
    opts.virt_lines = virt_lines
  end
  vim.api.nvim_buf_set_extmark(bufnr, M.ns, row, col, opts)
end

---@param bufnr integer
function M.clear(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

--- The ghost text currently drawn in `bufnr` (for statuslines and tests), or nil.
---@param bufnr integer
---@return { row: integer, col: integer, text: string }?
function M.get(bufnr)
  local marks = vim.api.nvim_buf_get_extmarks(bufnr, M.ns, 0, -1, { details = true })
  local mark = marks[1]
  if not mark then
    return nil
  end
  local details = mark[4]
  local parts = { details.virt_text[1][1] }
  for _, line in ipairs(details.virt_lines or {}) do
    parts[#parts + 1] = line[1][1]
  end
  return { row = mark[2], col = mark[3], text = table.concat(parts, "\n") }
end

return M
