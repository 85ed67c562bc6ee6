--- Loaded inside the child Neovim that tests/helpers.lua drives: small queries the specs need.
local M = {}

--- Messages the plugin and Neovim send with vim.notify (kept for assertions, and shown when a
--- spec fails).
_G.notifications = {}

---@param plugin_root string
---@param opts table
function M.setup(plugin_root, opts)
  vim.g.loaded_python3_provider = 0
  vim.notify = function(msg, level)
    table.insert(_G.notifications, { msg = msg, level = level })
  end
  vim.opt.runtimepath:prepend(plugin_root)
  vim.cmd.runtime("plugin/pairline.lua")
  require("pairline").setup(opts)
end

---@param path string
---@return integer
function M.edit(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  return vim.api.nvim_get_current_buf()
end

---@param bufnr integer
---@return integer?
function M.client_id(bufnr)
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = "pairline" })[1]
  return client and client.id
end

---@param bufnr integer
---@return string
function M.buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") .. "\n"
end

--- The text the server holds for `bufnr` (pairline/debug/document).
---@param bufnr integer
---@return string
function M.server_text(bufnr)
  local client = assert(vim.lsp.get_clients({ bufnr = bufnr, name = "pairline" })[1])
  local response = client:request_sync("pairline/debug/document", { uri = vim.uri_from_bufnr(bufnr) }, 10000, bufnr)
  assert(response and not response.err, vim.inspect(response))
  return response.result.text
end

--- The server's counters (pairline/debug/stats), e.g. accept_commands.
---@param bufnr integer
---@return table<string, integer>
function M.server_stats(bufnr)
  local client = assert(vim.lsp.get_clients({ bufnr = bufnr, name = "pairline" })[1])
  local response = client:request_sync("pairline/debug/stats", vim.empty_dict(), 10000, bufnr)
  assert(response and not response.err, vim.inspect(response))
  return response.result
end

--- Extmarks of every namespace in `bufnr`, by namespace name.
---@param bufnr integer
---@return table<string, integer>
function M.extmark_counts(bufnr)
  local counts = {}
  for name, ns in pairs(vim.api.nvim_get_namespaces()) do
    local n = #vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, {})
    if n > 0 then
      counts[name] = n
    end
  end
  return counts
end

--- Cursor line text, cursor (1-based row, 0-based col) and mode.
---@return { line: string, cursor: integer[], mode: string }
function M.where()
  return {
    line = vim.api.nvim_get_current_line(),
    cursor = vim.api.nvim_win_get_cursor(0),
    mode = vim.api.nvim_get_mode().mode,
  }
end

--- The ghost-text extmark: pairline's own on 0.11, Neovim's on 0.12.
---@param bufnr integer
---@return { row: integer, col: integer, text: string, namespace: string }?
function M.ghost(bufnr)
  local name = require("pairline.inline").builtin and "nvim.lsp.inline_completion" or "pairline.ghost"
  local ns = vim.api.nvim_get_namespaces()[name]
  local mark = ns and vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })[1]
  if not mark then
    return nil
  end
  local text = require("pairline").suggestion(bufnr)
  return { row = mark[2], col = mark[3], text = text, namespace = name }
end

--- The buffer text once `text` is inserted at the cursor.
---@param bufnr integer
---@param text string
---@return string
function M.with_insert(bufnr, text)
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local line = lines[row]
  lines[row] = line:sub(1, col) .. text .. line:sub(col + 1)
  return table.concat(lines, "\n") .. "\n"
end

---@param text string
---@param kind "all"|"word"|"line"
function M.first_piece(text, kind)
  return require("pairline.pieces").first(text, kind)
end

function M.stop_clients()
  local clients = vim.lsp.get_clients()
  for _, client in ipairs(clients) do
    client:stop()
  end
  vim.wait(10000, function()
    return vim.iter(clients):all(function(c)
      return c:is_stopped()
    end)
  end, 10)
end

return M
