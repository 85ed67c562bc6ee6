--- Leaving nothing half-made: a reinstall sets the working virtualenv aside until the new one
--- works, and a failed, cancelled or interrupted install puts it back.
local paths = require("pairline.install.paths")

local M = {}

--- Remove a half-made virtualenv and put back the install it replaces, if any.
---@param venv string
function M.roll_back(venv)
  vim.fn.delete(venv, "rf")
  if vim.uv.fs_stat(venv .. ".old") then
    vim.uv.fs_rename(venv .. ".old", venv)
  end
end

--- Undo what an install Neovim did not live to finish left: a virtualenv without the marker,
--- or the previous install set aside.
---@param venv string
function M.clean_leftovers(venv)
  if vim.uv.fs_stat(venv) and not vim.uv.fs_stat(vim.fs.joinpath(venv, paths.MARKER)) then
    M.roll_back(venv)
  elseif vim.uv.fs_stat(venv .. ".old") then
    vim.fn.delete(venv .. ".old", "rf")
  end
end

--- Move the working install (if any) aside, to come back should the new one fail.
---@param venv string
---@return boolean ok, string? err
function M.set_aside(venv)
  if not vim.uv.fs_stat(venv) then
    return true
  end
  local ok, err = vim.uv.fs_rename(venv, venv .. ".old")
  if not ok then
    return false, ("cannot move the previous install aside: %s"):format(err)
  end
  return true
end

--- The new install works: the one it replaced is no longer needed.
---@param venv string
function M.commit(venv)
  vim.fn.delete(venv .. ".old", "rf")
end

return M
