--- pairline: a local coding copilot served by `pairline serve`.
---
--- require("pairline").setup({ cmd = { "pairline", "serve" }, settings = { model = { name = "gemma3-270m" } } })
local M = {}

M.did_setup = false

--- Merge `opts` over the defaults, validate them, and start attaching to configured filetypes.
--- Calling it again applies the new options (restart the server for new `cmd`/`settings`).
---@param opts? pairline.Config|table
function M.setup(opts)
  require("pairline.config").apply(opts)
  require("pairline.status").setup()
  require("pairline.inline").setup()
  require("pairline.nextedit").setup()
  require("pairline.client").setup()
  M.did_setup = true
end

--- Accept all, a word or a line of the suggestion; false when none is showing.
---@param kind? "all"|"word"|"line"
---@return boolean
function M.accept(kind)
  return require("pairline.inline").accept(kind)
end

--- Hide the current suggestion.
function M.dismiss()
  require("pairline.inline").dismiss()
end

--- The suggestion showing in `bufnr` (default: current), or nil.
---@param bufnr? integer
---@return string?
function M.suggestion(bufnr)
  return require("pairline.inline").get(bufnr)
end

--- Turn inline suggestions on/off (default: flip).
---@param on? boolean
function M.toggle(on)
  require("pairline.inline").toggle(on)
end

--- Jump to the next edit shown in the current buffer; at it, apply it. False when none shows,
--- so it can back a mapping of your own.
---@return boolean
function M.next_edit()
  return require("pairline.nextedit").accept()
end

--- Hide the next edit shown in the current buffer.
function M.dismiss_next_edit()
  require("pairline.nextedit").dismiss()
end

--- The next edit shown in `bufnr` (default: current), or nil: { row, col, end_row, end_col,
--- old, text }, 0-based byte positions of the replaced text `old`, and its replacement `text`.
---@param bufnr? integer
---@return table?
function M.get_next_edit(bufnr)
  return require("pairline.nextedit").get(bufnr)
end

--- Turn next-edit suggestions on/off (default: flip).
---@param on? boolean
function M.toggle_next_edit(on)
  require("pairline.nextedit").toggle(on)
end

--- Stop the server and start it again for the buffers it served.
function M.restart()
  require("pairline.client").restart()
end

--- Code actions at the cursor or selection ("Fix this" and friends), through Neovim's own UI.
---@param opts? vim.lsp.buf.code_action.Opts
function M.code_action(opts)
  vim.lsp.buf.code_action(opts)
end

--- Statusline component, e.g. `%{v:lua.require'pairline'.statusline()}`.
---@return string
function M.statusline()
  return require("pairline.status").statusline()
end

--- Server state for `bufnr`: { state = "starting"|"loading"|"ready"|"error", message, model }.
---@param bufnr? integer
---@return pairline.Status?
function M.status(bufnr)
  return require("pairline.status").get(bufnr)
end

return M
