--- What a running install tells the user: a notification per step and for pip's main lines,
--- the status line, and `User PairlineInstall` events for statusline plugins.
local M = {}

---@type { step: string, line: string }? what the running install is doing
M.current = nil

---@param state "running"|"done"|"failed"
---@param message string
function M.emit(state, message)
  vim.api.nvim_exec_autocmds(
    "User",
    { pattern = "PairlineInstall", modeline = false, data = { state = state, message = message } }
  )
  vim.cmd.redrawstatus({ bang = true, mods = { silent = true } })
end

---@param label string what the status line shows
---@param message string what the notification says
function M.step(label, message)
  M.current = { step = label, line = "" }
  vim.notify("pairline: " .. message, vim.log.levels.INFO)
  M.emit("running", message)
end

-- pip's lines worth a notification; the others only reach the status line.
local LOUD = { "^Building wheel", "^Installing collected", "^Successfully", "^Processing " }

---@param line string
function M.pip_line(line)
  line = vim.trim(line)
  if line == "" or not M.current then
    return
  end
  M.current.line = line
  for _, pattern in ipairs(LOUD) do
    if line:find(pattern) then
      vim.notify("pairline: pip: " .. line, vim.log.levels.INFO)
      break
    end
  end
  M.emit("running", line)
end

--- The install has ended (either way): nothing more to show.
function M.finish()
  M.current = nil
end

---@return boolean
function M.running()
  return M.current ~= nil
end

--- A line for a statusline while an install runs, else "".
---@return string
function M.statusline()
  if not M.current then
    return ""
  end
  return "pairline: installing (" .. M.current.step .. ")"
end

return M
