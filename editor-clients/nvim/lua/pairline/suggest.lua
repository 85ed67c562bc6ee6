--- Inline suggestions for Neovim 0.11, which has no built-in inline completion: a debounced
--- `textDocument/inlineCompletion` request per pause in typing, the superseded one cancelled,
--- and the answer drawn as ghost text only while it still matches the buffer and cursor. It runs
--- in the buffers pairline.inline attaches it to, which are those served while suggestions are on.
local ghost = require("pairline.ghost")
local pending = require("pairline.pending")

local M = {}

local METHOD = "textDocument/inlineCompletion"
local REQUEST_CANCELLED = -32800

---@class pairline.Suggestion
---@field row integer 0-based row the text goes in at
---@field col integer 0-based byte column the text goes in at
---@field text string what is left to accept
---@field tick integer b:changedtick the suggestion was made for
---@field client? vim.lsp.Client the server that made it
---@field command? lsp.Command the item's command, run on accept (pairline.accepted)
---@field taken? integer characters of it already in the buffer (typed through or accepted)

---@class pairline.BufState
---@field timer? uv.uv_timer_t
---@field request? { client: vim.lsp.Client, id: integer, token: table }
---@field suggestion? pairline.Suggestion

---@type table<integer, pairline.BufState>
local states = {}

---@param bufnr integer
---@return pairline.BufState
local function state(bufnr)
  states[bufnr] = states[bufnr] or {}
  return states[bufnr]
end

---@return integer row, integer col 0-based
local function cursor()
  local pos = vim.api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function in_insert_mode()
  return vim.api.nvim_get_mode().mode:sub(1, 1) == "i"
end

---@param bufnr integer
local function cancel(bufnr)
  pending.cancel(state(bufnr))
end

--- Hide the suggestion and forget pending work for `bufnr`.
---@param bufnr? integer
function M.dismiss(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  cancel(bufnr)
  state(bufnr).suggestion = nil
  ghost.clear(bufnr)
end

---@param bufnr integer
---@param s pairline.Suggestion
local function show(bufnr, s)
  state(bufnr).suggestion = s
  ghost.show(bufnr, s.row, s.col, s.text)
  vim.api.nvim_exec_autocmds(
    "User",
    { pattern = "PairlineSuggestion", modeline = false, data = { bufnr = bufnr, text = s.text } }
  )
end

--- Is `s` still true to the buffer: same text, cursor where the suggestion starts?
---@param bufnr integer
---@param s pairline.Suggestion
local function current(bufnr, s)
  local row, col = cursor()
  return s.tick == vim.b[bufnr].changedtick and row == s.row and col == s.col
end

--- The user typed the first characters of the suggestion: keep showing the rest instead of
--- asking again.
---@param bufnr integer
---@param s pairline.Suggestion
---@return pairline.Suggestion?
local function typed_through(bufnr, s)
  local row, col = cursor()
  if row ~= s.row or col <= s.col then
    return nil
  end
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local typed = line:sub(s.col + 1, col)
  if #typed >= #s.text or s.text:sub(1, #typed) ~= typed or typed:find("\n", 1, true) then
    return nil
  end
  return {
    row = row,
    col = col,
    text = s.text:sub(#typed + 1),
    tick = vim.b[bufnr].changedtick,
    client = s.client,
    command = s.command,
    taken = (s.taken or 0) + vim.fn.strchars(typed),
  }
end

--- Text of an LSP item to show at the cursor, or nil when it cannot be shown as ghost text.
---@param bufnr integer
---@param item lsp.InlineCompletionItem
---@param encoding string
---@return string?
local function item_text(bufnr, item, encoding)
  if type(item.insertText) ~= "string" and type(item.insertText) ~= "table" then
    return nil
  end
  -- A snippet is shown and inserted as its plain text.
  local text = require("pairline.pieces").plain(item.insertText)
  local range = item.range
  if range then
    local row, col = cursor()
    local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
    local start_col = vim.str_byteindex(line, encoding, range.start.character, false)
    local end_col = vim.str_byteindex(line, encoding, range["end"].character, false)
    -- Only ranges that end at the cursor on its line: what they replace was typed already.
    if range.start.line ~= row or range["end"].line ~= row or end_col ~= col or start_col > col then
      return nil
    end
    local typed = line:sub(start_col + 1, col)
    if text:sub(1, #typed) ~= typed then
      return nil
    end
    text = text:sub(#typed + 1)
  end
  if text:match("^%s*$") then
    return nil
  end
  return text
end

---@param bufnr integer
local function request(bufnr)
  if bufnr ~= vim.api.nvim_get_current_buf() or not in_insert_mode() then
    return
  end
  local client = require("pairline.client").clients({ bufnr = bufnr, method = METHOD })[1]
  if not client then
    return
  end
  cancel(bufnr)
  local row, col = cursor()
  local tick = vim.b[bufnr].changedtick
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  ---@diagnostic disable-next-line: inject-field
  params.context = { triggerKind = 2 } -- Automatic
  local s = state(bufnr)
  -- Identifies this request in its handler (0.11's handler context has no request id).
  local token = {}
  local ok, id = client:request(METHOD, params, function(err, result)
    if not s.request or s.request.token ~= token then
      return -- superseded
    end
    s.request = nil
    if err then
      if err.code ~= REQUEST_CANCELLED then
        vim.lsp.log.warn("pairline inlineCompletion", err)
      end
      return
    end
    local crow, ccol = cursor()
    if vim.b[bufnr].changedtick ~= tick or crow ~= row or ccol ~= col or not in_insert_mode() then
      return -- the answer is for a buffer that has moved on
    end
    local items = result and (result.items or result) or {}
    for _, item in ipairs(items) do
      local text = item_text(bufnr, item, client.offset_encoding)
      if text then
        show(bufnr, { row = row, col = col, text = text, tick = tick, client = client, command = item.command })
        return
      end
    end
  end, bufnr)
  if ok and id then
    s.request = { client = client, id = id, token = token }
  end
end

--- Ask again after a pause in typing.
---@param bufnr integer
local function schedule(bufnr)
  local s = state(bufnr)
  s.timer = s.timer or assert(vim.uv.new_timer())
  s.timer:stop()
  s.timer:start(
    require("pairline.config").options.debounce_ms,
    0,
    vim.schedule_wrap(function()
      if vim.api.nvim_buf_is_valid(bufnr) then
        request(bufnr)
      end
    end)
  )
end

--- After any edit or cursor move in insert mode.
---@param bufnr integer
local function on_change(bufnr)
  local s = state(bufnr)
  if s.suggestion and current(bufnr, s.suggestion) then
    return -- our own accept, or a cursor event for the same keystroke
  end
  local rest = s.suggestion and typed_through(bufnr, s.suggestion)
  if rest then
    cancel(bufnr)
    show(bufnr, rest)
    return
  end
  M.dismiss(bufnr)
  schedule(bufnr)
end

--- Insert all or part of the suggestion; false when there is none to accept.
---@param kind? "all"|"word"|"line"
---@param bufnr? integer
---@return boolean
function M.accept(kind, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local s = state(bufnr).suggestion
  if not s or not current(bufnr, s) then
    M.dismiss(bufnr)
    return false
  end
  local chunk = require("pairline.pieces").first(s.text, kind or "all")
  local row, col = require("pairline.insert").text(bufnr, s.row, s.col, chunk)
  local rest = s.text:sub(#chunk + 1)
  local taken = (s.taken or 0) + vim.fn.strchars(chunk)
  -- All of it: the command as the server sent it; part of it: with how much was taken so far.
  require("pairline.accepted").report(s.client, s.command, bufnr, rest ~= "" and taken or nil)
  if rest == "" then
    M.dismiss(bufnr)
  else
    show(bufnr, {
      row = row,
      col = col,
      text = rest,
      tick = vim.b[bufnr].changedtick,
      client = s.client,
      command = s.command,
      taken = taken,
    })
  end
  return true
end

--- Start suggesting in `bufnr`.
---@param bufnr integer
function M.attach(bufnr)
  local group = vim.api.nvim_create_augroup("pairline.suggest." .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "InsertEnter", "TextChangedI", "CursorMovedI" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      on_change(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave", "TextChanged" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.dismiss(bufnr)
    end,
  })
  if bufnr == vim.api.nvim_get_current_buf() and in_insert_mode() then
    schedule(bufnr)
  end
end

---@param bufnr integer
function M.detach(bufnr)
  M.dismiss(bufnr)
  pcall(vim.api.nvim_del_augroup_by_name, "pairline.suggest." .. bufnr)
  local s = states[bufnr]
  if s and s.timer then
    s.timer:close()
  end
  states[bufnr] = nil
end

--- The suggestion shown in `bufnr`, or nil.
---@param bufnr? integer
---@return string?
function M.get(bufnr)
  local s = state(bufnr or vim.api.nvim_get_current_buf()).suggestion
  return s and s.text
end

return M
