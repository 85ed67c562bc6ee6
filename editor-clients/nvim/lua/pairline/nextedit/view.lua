--- Drawing a next edit: the replaced text struck through, the new text as virtual text (inline
--- for one line, the resulting lines below for several), and a hint on the cursor's line when
--- the edit is off screen. Also the highlight groups it is drawn with.
local state = require("pairline.nextedit.state")

local M = {}

M.ns = vim.api.nvim_create_namespace("pairline.nextedit")

--- Is the edit's first line inside the current window's view?
---@param e pairline.NextEdit
local function on_screen(e)
  return e.row + 1 >= vim.fn.line("w0") and e.row + 1 <= vim.fn.line("w$")
end

--- The hint on the cursor's line that says where `e` is.
---@param bufnr integer
---@param e pairline.NextEdit
local function hint(bufnr, e)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  -- Name the key only where it is pairline's (a key the user maps is left alone).
  local key = state.options().keymaps.accept
  if not vim.tbl_contains(state.get(bufnr).mapped or {}, key) then
    key = nil
  end
  vim.api.nvim_buf_set_extmark(bufnr, M.ns, row, 0, {
    virt_text = {
      {
        ("  %s next edit at line %d%s"):format(
          e.row < row and "↑" or "↓",
          e.row + 1,
          key and (" (" .. key .. " jumps)") or ""
        ),
        "PairlineNextEditHint",
      },
    },
    virt_text_pos = "eol",
  })
end

--- Draw `e` in `bufnr`, replacing what was drawn before.
---@param bufnr integer
---@param e pairline.NextEdit
function M.render(bufnr, e)
  vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  if e.row ~= e.end_row or e.col ~= e.end_col then
    vim.api.nvim_buf_set_extmark(bufnr, M.ns, e.row, e.col, {
      end_row = e.end_row,
      end_col = e.end_col,
      hl_group = "PairlineNextEditDelete",
      -- Above syntax and diagnostics, so the strike shows whatever colours the text has.
      priority = 200,
    })
  end
  local lines = vim.split(e.text, "\n", { plain = true })
  if #lines == 1 then
    if e.text ~= "" then
      vim.api.nvim_buf_set_extmark(bufnr, M.ns, e.end_row, e.end_col, {
        virt_text = { { e.text, "PairlineNextEditInsert" } },
        virt_text_pos = "inline",
        priority = 200,
      })
    end
  else
    -- Several lines: the lines as they will read, below the replaced ones.
    local first = vim.api.nvim_buf_get_lines(bufnr, e.row, e.row + 1, true)[1]
    local last = vim.api.nvim_buf_get_lines(bufnr, e.end_row, e.end_row + 1, true)[1]
    lines[1] = first:sub(1, e.col) .. lines[1]
    lines[#lines] = lines[#lines] .. last:sub(e.end_col + 1)
    vim.api.nvim_buf_set_extmark(bufnr, M.ns, e.end_row, 0, {
      virt_lines = vim.tbl_map(function(line)
        return { { line, "PairlineNextEditInsert" } }
      end, lines),
    })
  end
  if vim.api.nvim_get_current_buf() == bufnr and not on_screen(e) then
    hint(bufnr, e)
  end
end

--- Remove what is drawn in `bufnr`.
---@param bufnr integer
function M.clear(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

--- The struck-through text in the colour of |hl-Removed|, the new text in that of |hl-Added|,
--- the off-screen hint as |hl-DiagnosticHint|; a colorscheme's own definitions win.
function M.set_highlights()
  local removed = vim.api.nvim_get_hl(0, { name = "Removed", link = false })
  vim.api.nvim_set_hl(0, "PairlineNextEditDelete", {
    default = true,
    strikethrough = true,
    fg = removed.fg,
    ctermfg = removed.ctermfg or 9,
    cterm = { strikethrough = true },
  })
  vim.api.nvim_set_hl(0, "PairlineNextEditInsert", { default = true, link = "Added" })
  vim.api.nvim_set_hl(0, "PairlineNextEditHint", { default = true, link = "DiagnosticHint" })
end

return M
