--- The buffer-local keys that exist only while a next edit shows (jump/apply, dismiss). A key
--- the user (or another plugin) already maps in normal mode keeps its mapping.
local state = require("pairline.nextedit.state")

local M = {}

--- Map the keys in `bufnr`, once per shown edit; `actions` are what they run.
---@param bufnr integer
---@param actions { accept: fun(bufnr: integer), dismiss: fun(bufnr: integer) }
function M.map(bufnr, actions)
  local s = state.get(bufnr)
  if s.mapped then
    return
  end
  s.mapped = {}
  local keys = state.options().keymaps
  local wanted = {
    { keys.accept, actions.accept, "pairline: jump to the next edit, then apply it" },
    { keys.dismiss, actions.dismiss, "pairline: dismiss the next edit" },
  }
  for _, a in ipairs(wanted) do
    local lhs = a[1]
    -- pairline.next_edit() can back a mapping of the user's own.
    if lhs and vim.tbl_isempty(vim.fn.maparg(lhs, "n", false, true)) then
      local action = a[2]
      vim.keymap.set("n", lhs, function()
        action(bufnr)
      end, { buffer = bufnr, desc = a[3], nowait = true })
      table.insert(s.mapped, lhs)
    end
  end
end

---@param bufnr integer
function M.unmap(bufnr)
  local s = state.get(bufnr)
  for _, lhs in ipairs(s.mapped or {}) do
    pcall(vim.keymap.del, "n", lhs, { buffer = bufnr })
  end
  s.mapped = nil
end

return M
