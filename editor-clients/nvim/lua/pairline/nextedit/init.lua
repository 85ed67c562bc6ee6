--- Next-edit suggestions: after an edit (a change in normal mode, or leaving insert mode with
--- changes), a debounced `textDocument/copilotInlineEdit` request; the first proposed edit is
--- drawn at its place (the text it replaces struck through, the new text as virtual text) and a
--- hint near the cursor says where when it is off screen. A key jumps there, a second press
--- applies it and runs its command. <Esc>, any edit or moving away dismisses it. Normal mode
--- only, so it never competes with insert-mode ghost text.
local pending = require("pairline.pending")

local M = {}

M.METHOD = "textDocument/copilotInlineEdit"
M.ns = vim.api.nvim_create_namespace("pairline.nextedit")

local REQUEST_CANCELLED = -32800
local CONTENT_MODIFIED = -32801

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
local states = {}

local enabled = true

---@param bufnr integer
---@return pairline.NextEditState
local function state(bufnr)
  states[bufnr] = states[bufnr] or {}
  return states[bufnr]
end

local function options()
  return require("pairline.config").options.next_edit
end

local function normal_mode()
  return vim.api.nvim_get_mode().mode == "n"
end

--- The pairline client for `bufnr` that serves next edits.
---@param bufnr integer
---@return vim.lsp.Client?
local function client_for(bufnr)
  for _, client in ipairs(require("pairline.client").clients({ bufnr = bufnr })) do
    local experimental = client.server_capabilities and client.server_capabilities.experimental
    local pairline = type(experimental) == "table" and experimental.pairline
    if type(pairline) == "table" and pairline.nextEdit then
      return client
    end
  end
end

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
local function describe(bufnr, e)
  return {
    row = e.row,
    col = e.col,
    end_row = e.end_row,
    end_col = e.end_col,
    text = e.text,
    old = table.concat(vim.api.nvim_buf_get_text(bufnr, e.row, e.col, e.end_row, e.end_col, {}), "\n"),
  }
end

--- Is the edit's first line inside the current window's view?
---@param e pairline.NextEdit
local function on_screen(e)
  return e.row + 1 >= vim.fn.line("w0") and e.row + 1 <= vim.fn.line("w$")
end

--- Draw `e` in `bufnr`: struck-through old text, the new text after it (inline when it is one
--- line, else the resulting lines below), and a hint on the cursor's line when it is off screen.
---@param bufnr integer
---@param e pairline.NextEdit
local function render(bufnr, e)
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
    local row = vim.api.nvim_win_get_cursor(0)[1] - 1
    -- Name the key only where it is pairline's (a key the user maps is left alone).
    local key = options().keymaps.accept
    if not vim.tbl_contains(state(bufnr).mapped or {}, key) then
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
end

---@param bufnr integer
local function unmap(bufnr)
  local s = state(bufnr)
  for _, lhs in ipairs(s.mapped or {}) do
    pcall(vim.keymap.del, "n", lhs, { buffer = bufnr })
  end
  s.mapped = nil
end

---@param bufnr integer
local function cancel(bufnr)
  pending.cancel(state(bufnr))
end

--- Hide the edit shown in `bufnr` and forget pending requests.
---@param bufnr? integer
function M.dismiss(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  cancel(bufnr)
  local s = state(bufnr)
  s.edit = nil
  unmap(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

--- Map the keys in `bufnr` while an edit shows; a key the user (or another plugin) already maps
--- in normal mode keeps its mapping (pairline.next_edit() can back one of theirs).
---@param bufnr integer
local function map(bufnr)
  local s = state(bufnr)
  if s.mapped then
    return
  end
  s.mapped = {}
  local keys = options().keymaps
  local actions = {
    { keys.accept, M.accept, "pairline: jump to the next edit, then apply it" },
    { keys.dismiss, M.dismiss, "pairline: dismiss the next edit" },
  }
  for _, a in ipairs(actions) do
    local lhs = a[1]
    if lhs and vim.tbl_isempty(vim.fn.maparg(lhs, "n", false, true)) then
      local action = a[2]
      vim.keymap.set("n", lhs, function()
        action(bufnr)
      end, { buffer = bufnr, desc = a[3], nowait = true })
      table.insert(s.mapped, lhs)
    end
  end
end

--- Show `e` in `bufnr` and tell the server it is shown.
---@param bufnr integer
---@param e pairline.NextEdit
function M.show(bufnr, e)
  M.dismiss(bufnr)
  state(bufnr).edit = e
  map(bufnr)
  render(bufnr, e)
  if not e.client:is_stopped() then
    e.client:notify("textDocument/didShowInlineEdit", { item = e.item })
  end
  vim.api.nvim_exec_autocmds("User", {
    pattern = "PairlineNextEdit",
    modeline = false,
    data = vim.tbl_extend("error", describe(bufnr, e), { bufnr = bufnr }),
  })
end

--- Ask the server for the next edit in `bufnr` (the current buffer, in normal mode, no ghost
--- text showing).
---@param bufnr integer
function M.request(bufnr)
  if not enabled or bufnr ~= vim.api.nvim_get_current_buf() or not normal_mode() then
    return
  end
  if require("pairline.inline").get(bufnr) then
    return
  end
  local client = client_for(bufnr)
  if not client then
    return
  end
  cancel(bufnr)
  local tick = vim.b[bufnr].changedtick
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  ---@diagnostic disable-next-line: inject-field
  params.textDocument.version = vim.lsp.util.buf_versions[bufnr]
  local s = state(bufnr)
  local token = {}
  local ok, id = client:request(M.METHOD, params, function(err, result)
    if not s.request or s.request.token ~= token then
      return -- superseded
    end
    s.request = nil
    if err then
      if err.code ~= REQUEST_CANCELLED and err.code ~= CONTENT_MODIFIED then
        vim.lsp.log.warn("pairline copilotInlineEdit", err)
      end
      return
    end
    if
      not vim.api.nvim_buf_is_valid(bufnr)
      or vim.b[bufnr].changedtick ~= tick
      or bufnr ~= vim.api.nvim_get_current_buf()
      or not normal_mode()
      or require("pairline.inline").get(bufnr)
    then
      return -- the answer is for a buffer that has moved on
    end
    for _, item in ipairs(type(result) == "table" and result.edits or {}) do
      local e = M.from_item(bufnr, client, item)
      if e then
        M.show(bufnr, e)
        return
      end
    end
  end, bufnr)
  if ok and id then
    s.request = { client = client, id = id, token = token }
  end
end

--- Ask after a pause (next_edit.debounce_ms).
---@param bufnr integer
function M.schedule(bufnr)
  if not enabled then
    return
  end
  local s = state(bufnr)
  s.timer = s.timer or assert(vim.uv.new_timer())
  s.timer:stop()
  s.timer:start(
    options().debounce_ms,
    0,
    vim.schedule_wrap(function()
      if vim.api.nvim_buf_is_valid(bufnr) then
        M.request(bufnr)
      end
    end)
  )
end

--- Jump to the edit shown in `bufnr`; when the cursor is already at its start, apply it (and
--- run its command), after which the edit counts as the user's and the next one is asked for.
---@param bufnr? integer
---@return boolean false when no edit is showing
function M.accept(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local e = state(bufnr).edit
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
    render(bufnr, e)
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
  local e = state(bufnr).edit
  return e and describe(bufnr, e)
end

--- The cursor moved: keep the edit while the cursor stays on its line or on the line it was on
--- when the edit appeared; anywhere else dismisses it.
---@param bufnr integer
local function on_cursor_moved(bufnr)
  local e = state(bufnr).edit
  if not e then
    return
  end
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  if row ~= e.anchor and (row < e.row or row > e.end_row) then
    M.dismiss(bufnr)
  end
end

--- Start next-edit suggestions in `bufnr`.
---@param bufnr integer
function M.attach(bufnr)
  local group = vim.api.nvim_create_augroup("pairline.nextedit." .. bufnr, { clear = true })
  local function on(events, callback)
    vim.api.nvim_create_autocmd(events, { group = group, buffer = bufnr, callback = callback })
  end
  on("TextChanged", function()
    M.dismiss(bufnr)
    M.schedule(bufnr)
  end)
  on("InsertEnter", function()
    M.dismiss(bufnr)
    state(bufnr).insert_tick = vim.b[bufnr].changedtick
  end)
  on("InsertLeave", function()
    if state(bufnr).insert_tick ~= vim.b[bufnr].changedtick then
      M.schedule(bufnr)
    end
  end)
  on("CursorMoved", function()
    on_cursor_moved(bufnr)
  end)
  on("WinScrolled", function()
    local e = state(bufnr).edit
    if e then
      render(bufnr, e)
    end
  end)
  on({ "BufLeave", "TextChangedI" }, function()
    M.dismiss(bufnr)
  end)
end

---@param bufnr integer
function M.detach(bufnr)
  M.dismiss(bufnr)
  pcall(vim.api.nvim_del_augroup_by_name, "pairline.nextedit." .. bufnr)
  local s = states[bufnr]
  if s and s.timer then
    s.timer:close()
  end
  states[bufnr] = nil
end

---@return boolean
function M.is_enabled()
  return enabled
end

--- Turn next-edit suggestions on or off (default: flip); off hides any shown.
---@param on? boolean
function M.toggle(on)
  if on == nil then
    on = not enabled
  end
  enabled = on
  if not on then
    for bufnr in pairs(states) do
      M.dismiss(bufnr)
    end
  end
end

--- The struck-through text in the colour of |hl-Removed|, the new text in that of |hl-Added|,
--- the off-screen hint as |hl-DiagnosticHint|; a colorscheme's own definitions win.
local function set_highlights()
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

function M.setup()
  enabled = options().enabled
  set_highlights()
  local group = vim.api.nvim_create_augroup("pairline.nextedit", { clear = true })
  vim.api.nvim_create_autocmd("ColorScheme", { group = group, callback = set_highlights })
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == require("pairline.client").name then
        M.attach(ev.buf)
      end
    end,
  })
  vim.api.nvim_create_autocmd("LspDetach", {
    group = group,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == require("pairline.client").name then
        M.detach(ev.buf)
      end
    end,
  })
end

return M
