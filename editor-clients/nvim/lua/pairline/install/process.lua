--- The install's child processes (Python probes, venv, pip): run from the install coroutine so
--- Neovim stays responsive, and remembered so a cancel or quitting Neovim can stop them.
local M = {}

---@type vim.SystemObj? the one running now
M.job = nil

--- Run `argv`, returning its result; inside the install coroutine only.
---@param argv string[]
---@param opts? vim.SystemOpts
---@return vim.SystemCompleted
function M.await(argv, opts)
  local co = coroutine.running()
  local ok, job = pcall(vim.system, argv, opts or { text = true }, function(result)
    vim.schedule(function()
      coroutine.resume(co, result)
    end)
  end)
  if not ok then
    return { code = 127, signal = 0, stdout = "", stderr = tostring(job) }
  end
  M.job = job
  local result = coroutine.yield()
  M.job = nil
  return result
end

--- Run `argv` and wait for it, for callers outside the install coroutine (:checkhealth).
---@param argv string[]
---@param opts vim.SystemOpts
---@return vim.SystemCompleted
function M.wait(argv, opts)
  local ok, result = pcall(function()
    return vim.system(argv, opts):wait()
  end)
  return ok and result or { code = 127, signal = 0, stdout = "", stderr = tostring(result) }
end

--- Stop the running child, if any; `wait_ms` waits for it to go (when Neovim is quitting).
---@param signal string
---@param wait_ms? integer
function M.kill(signal, wait_ms)
  local job = M.job
  if job then
    job:kill(signal)
    if wait_ms then
      pcall(job.wait, job, wait_ms)
    end
  end
end

return M
