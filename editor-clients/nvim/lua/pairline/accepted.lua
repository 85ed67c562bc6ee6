--- Tell the server that a suggestion was accepted, for its local usage stats (`pairline stats`):
--- run the item's command (`pairline.accepted`) as Neovim 0.12 does itself for a whole accept.
--- Nothing leaves the machine; the server records nothing when `completion.record_stats` is off.
local M = {}

--- Run `command` of `client` for an accepted suggestion; `chars` (a partial accept) says how many
--- characters of it were taken, nil means all of it.
---@param client vim.lsp.Client?
---@param command lsp.Command?
---@param bufnr integer
---@param chars? integer
function M.report(client, command, bufnr, chars)
  if not client or not command or client:is_stopped() then
    return
  end
  if chars then
    command = vim.deepcopy(command)
    command.arguments = vim.list_extend(vim.deepcopy(command.arguments or {}), { chars })
  end
  client:exec_cmd(command, { bufnr = bufnr })
end

return M
