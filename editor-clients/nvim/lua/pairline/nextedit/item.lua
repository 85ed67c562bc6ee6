--- The server's proposed edit turned into one a buffer can show: LSP positions to byte
--- positions, and every edit that does not fit the buffer as it is now turned away.
local M = {}

--- An LSP position as a 0-based (row, byte column) of `bufnr`, or nil when it is outside it.
--- The line after the last one, character 0, is the end of the buffer.
---@param bufnr integer
---@param pos { line: integer, character: integer }
---@param encoding string
---@return integer? row, integer? col
function M.to_bytes(bufnr, pos, encoding)
  if type(pos) ~= "table" or type(pos.line) ~= "number" or type(pos.character) ~= "number" then
    return nil
  end
  local count = vim.api.nvim_buf_line_count(bufnr)
  if pos.line < 0 or pos.character < 0 or pos.line > count or (pos.line == count and pos.character > 0) then
    return nil
  end
  if pos.line == count then
    local last = vim.api.nvim_buf_get_lines(bufnr, count - 1, count, true)[1]
    return count - 1, #last
  end
  local line = vim.api.nvim_buf_get_lines(bufnr, pos.line, pos.line + 1, true)[1]
  -- Not strict: a character past the end of the line is its end.
  return pos.line, vim.str_byteindex(line, encoding, pos.character, false)
end

--- The server's edit as one `bufnr` can show: for this buffer at its current version, with a
--- valid range, changing something. Nil otherwise.
---@param bufnr integer
---@param client vim.lsp.Client
---@param item table
---@return pairline.NextEdit?
function M.from_item(bufnr, client, item)
  if type(item) ~= "table" or type(item.text) ~= "string" or type(item.range) ~= "table" then
    return nil
  end
  local doc = item.textDocument
  if type(doc) == "table" then
    -- Only this buffer's edits, and never one made for text that has changed since.
    if doc.uri ~= vim.uri_from_bufnr(bufnr) then
      return nil
    end
    if doc.version ~= nil and doc.version ~= vim.lsp.util.buf_versions[bufnr] then
      return nil
    end
  end
  local encoding = client.offset_encoding or "utf-16"
  local row, col = M.to_bytes(bufnr, item.range.start, encoding)
  local end_row, end_col = M.to_bytes(bufnr, item.range["end"], encoding)
  if not row or not end_row or end_row < row or (end_row == row and end_col < col) then
    return nil
  end
  local old = table.concat(vim.api.nvim_buf_get_text(bufnr, row, col, end_row, end_col, {}), "\n")
  if old == item.text then
    return nil
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  return {
    row = row,
    col = col,
    end_row = end_row,
    end_col = end_col,
    text = item.text,
    tick = vim.b[bufnr].changedtick,
    anchor = cursor[1] - 1,
    item = item,
    client = client,
  }
end

--- What the API and the PairlineNextEdit event say of `e`.
---@param bufnr integer
---@param e pairline.NextEdit
function M.describe(bufnr, e)
  return {
    row = e.row,
    col = e.col,
    end_row = e.end_row,
    end_col = e.end_col,
    text = e.text,
    old = table.concat(vim.api.nvim_buf_get_text(bufnr, e.row, e.col, e.end_row, e.end_col, {}), "\n"),
  }
end

return M
