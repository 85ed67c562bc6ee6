--- Inline suggestions: Neovim's built-in `vim.lsp.inline_completion` where it exists (0.12+),
--- pairline's own requests and ghost text (pairline.suggest) on 0.11. Keymaps work on both.
local M = {}

--- Whether this Neovim draws inline completions itself.
M.builtin = vim.lsp.inline_completion ~= nil

--- Whether suggestions are on: the one flag. On 0.11 it decides which buffers pairline.suggest
--- runs in; on 0.12 which buffers the built-in feature is enabled for.
local enabled = true

---@param bufnr integer
local function attached(bufnr)
  return #require("pairline.client").clients({ bufnr = bufnr }) > 0
end

--- Neovim's built-in feature asks 200 ms after the last key; leaving insert mode within those
--- 200 ms cancels what is pending but not that timer, so the answer to a request sent from
--- normal mode would be drawn as ghost text there, where no key accepts or clears it (and where
--- it hides next edits). Answers that arrive outside insert and replace mode are dropped.
---@param client vim.lsp.Client
function M.guard(client)
  if not M.builtin then
    return
  end
  local request = client.request
  ---@diagnostic disable-next-line: duplicate-set-field
  client.request = function(self, method, params, handler, ...)
    if method == "textDocument/inlineCompletion" and handler then
      local show = handler
      handler = function(err, result, ...)
        if not vim.api.nvim_get_mode().mode:match("^[iR]") then
          result = nil -- the built-in handler shows nothing for no result
        end
        return show(err, result, ...)
      end
    end
    return request(self, method, params, handler, ...)
  end
end

---@param bufnr integer
local function enable_buffer(bufnr)
  if M.builtin then
    -- Per buffer: the built-in feature starts disabled for buffers.
    vim.lsp.inline_completion.enable(enabled, { bufnr = bufnr })
  elseif enabled then
    require("pairline.suggest").attach(bufnr)
  else
    require("pairline.suggest").detach(bufnr)
  end
end

--- Built-in item, partly accepted: replace its range with the first piece of its text. A whole
--- accept is Neovim's own, which runs the item's command; here the plugin reports the part.
---@param kind "word"|"line"
---@return fun(item: vim.lsp.inline_completion.Item)
local function accept_piece(kind)
  return function(item)
    local bufnr = vim.api.nvim_get_current_buf()
    local pieces = require("pairline.pieces")
    local chunk = pieces.first(pieces.plain(item.insert_text), kind)
    local insert = require("pairline.insert")
    if item.range then
      local r = item.range
      insert.text(bufnr, r.start.row, r.start.col, chunk, r.end_.row, r.end_.col)
    else
      local pos = vim.api.nvim_win_get_cursor(0)
      insert.text(bufnr, pos[1] - 1, pos[2], chunk)
    end
    local client = item.client_id and vim.lsp.get_client_by_id(item.client_id)
    require("pairline.accepted").report(client, item.command, bufnr, vim.fn.strchars(chunk))
  end
end

--- Accept all, a word or a line of the visible suggestion.
---@param kind? "all"|"word"|"line"
---@return boolean accepted false when no suggestion was showing
function M.accept(kind)
  kind = kind or "all"
  if M.builtin then
    return vim.lsp.inline_completion.get(kind ~= "all" and { on_accept = accept_piece(kind) } or nil)
  end
  return require("pairline.suggest").accept(kind)
end

--- Hide the suggestion (it comes back on the next edit).
function M.dismiss()
  if M.builtin then
    -- The built-in feature has no "hide": accepting the item shown with a handler that inserts
    -- nothing drops it (and cancels pending requests) as leaving insert mode does.
    vim.lsp.inline_completion.get({ on_accept = function() end })
  else
    require("pairline.suggest").dismiss()
  end
end

--- The text of `chunks` (one line of virtual text) drawn in |hl-ComplHint|, or nil when none is.
---@param chunks? [string, string|string[]?][]
---@return string?
local function hint_text(chunks)
  local parts = {}
  for _, chunk in ipairs(chunks or {}) do
    if chunk[2] == "ComplHint" then
      parts[#parts + 1] = chunk[1]
    end
  end
  return #parts > 0 and table.concat(parts) or nil
end

--- The suggestion text shown in `bufnr`, or nil.
---@param bufnr? integer
---@return string?
function M.get(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if not M.builtin then
    return require("pairline.suggest").get(bufnr)
  end
  -- The built-in feature keeps its item to itself; what it draws is in |hl-ComplHint| (a hint
  -- such as " (1/2)" after it is |hl-ComplHintMore|), whichever namespace it uses.
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, -1, 0, -1, { details = true, type = "virt_text" })) do
    local first = hint_text(mark[4].virt_text)
    if first then
      local lines = { first }
      for _, line in ipairs(mark[4].virt_lines or {}) do
        lines[#lines + 1] = hint_text(line) or ""
      end
      return table.concat(lines, "\n")
    end
  end
  return nil
end

---@return boolean
function M.is_enabled()
  return enabled
end

--- Turn suggestions on or off in every pairline buffer.
---@param on? boolean default: the opposite of now
function M.toggle(on)
  if on == nil then
    on = not enabled
  end
  enabled = on
  for _, client in ipairs(require("pairline.client").clients()) do
    for bufnr in pairs(client.attached_buffers) do
      enable_buffer(bufnr)
    end
  end
end

---@param lhs string|false
---@param kind "all"|"word"|"line"
local function map_accept(lhs, kind)
  if not lhs then
    return
  end
  vim.keymap.set("i", lhs, function()
    if attached(vim.api.nvim_get_current_buf()) and M.accept(kind) then
      return
    end
    -- Nothing to accept: the key does what it did without pairline (e.g. <Tab> indents).
    vim.api.nvim_feedkeys(vim.keycode(lhs), "n", false)
  end, { desc = "pairline: accept " .. (kind == "all" and "suggestion" or kind) })
end

--- PairlineGhostText: the colour of Comment, and grey where Comment has no terminal colour
--- (Neovim's default colorscheme without 'termguicolors'), so ghost text never looks typed.
local function set_highlight()
  local comment = vim.api.nvim_get_hl(0, { name = "Comment", link = false })
  vim.api.nvim_set_hl(0, "PairlineGhostText", {
    default = true,
    fg = comment.fg,
    ctermfg = comment.ctermfg or 8,
    italic = comment.italic,
  })
end

function M.setup()
  local o = require("pairline.config").options
  enabled = o.enabled
  set_highlight()
  map_accept(o.keymaps.accept, "all")
  map_accept(o.keymaps.accept_word, "word")
  map_accept(o.keymaps.accept_line, "line")
  if o.keymaps.dismiss then
    vim.keymap.set("i", o.keymaps.dismiss, M.dismiss, { desc = "pairline: dismiss suggestion" })
  end
  local group = vim.api.nvim_create_augroup("pairline.inline", { clear = true })
  vim.api.nvim_create_autocmd("ColorScheme", { group = group, callback = set_highlight })
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == require("pairline.client").name then
        enable_buffer(ev.buf)
      end
    end,
  })
  vim.api.nvim_create_autocmd("LspDetach", {
    group = group,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == require("pairline.client").name and not M.builtin then
        require("pairline.suggest").detach(ev.buf)
      end
    end,
  })
end

return M
