--- Test driver for `nvim --clean --headless -l tests/<spec>.lua`.
---
--- A script run with -l cannot sit in insert mode waiting for keys, so a spec starts a child
--- Neovim (the same binary, `--embed --headless`) and drives it over RPC like a user: keys go
--- through `nvim_input`, so insert mode, mappings and autocommands run for real. The child
--- loads tests/child.lua. The server command comes from $PAIRLINE_SERVER_CMD (a JSON list).
--- A failure exits with `cquit 1` and says why on stderr.
local H = {}

local here = vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p"))
H.tests_dir = here
H.plugin_root = vim.fs.dirname(here)
H.repo_root = vim.fs.dirname(vim.fs.dirname(H.plugin_root))

--- Generous: the first completion may wait for the model to load on a busy CPU. This guards
--- against hangs; it is not a speed check.
H.timeout = tonumber(os.getenv("PAIRLINE_TEST_TIMEOUT_MS")) or 120000

function H.log(msg)
  io.stderr:write(msg .. "\n")
end

---@param msg string
function H.fail(msg)
  H.log("FAIL: " .. msg)
  if H.chan then
    pcall(function()
      H.log("child messages: " .. vim.inspect(H.lua("return _G.notifications")))
    end)
  end
  vim.cmd("cquit 1")
end

---@param cond any
---@param msg string
function H.check(cond, msg)
  if not cond then
    H.fail(msg)
  end
  return cond
end

---@param got any
---@param want any
---@param what string
function H.eq(got, want, what)
  if not vim.deep_equal(got, want) then
    H.fail(("%s: expected %s, got %s"):format(what, vim.inspect(want), vim.inspect(got)))
  end
end

--- Wait until `pred()` returns a truthy value, and return that value.
---@param what string
---@param pred fun(): any
---@param timeout? integer ms
function H.wait(what, pred, timeout)
  local value
  local ok = vim.wait(timeout or H.timeout, function()
    value = pred()
    return value ~= nil and value ~= false
  end, 20)
  if not ok then
    H.fail("timed out waiting for " .. what)
  end
  return value
end

--- Run Lua in the child and return its result.
---@param code string
function H.lua(code, ...)
  local result = vim.rpcrequest(H.chan, "nvim_exec_lua", code, { ... })
  -- A Lua nil crosses RPC as vim.NIL.
  if result == vim.NIL then
    return nil
  end
  return result
end

--- Call `require("child")[name](...)` in the child.
---@param name string
function H.call(name, ...)
  return H.lua(("return require('child')[%q](...)"):format(name), ...)
end

--- Keys as the user types them (`<Tab>`, `<Esc>` notation).
---@param keys string
function H.input(keys)
  vim.rpcrequest(H.chan, "nvim_input", keys)
end

---@return string[]
function H.server_cmd()
  local env = os.getenv("PAIRLINE_SERVER_CMD")
  return env and vim.json.decode(env) or { "pairline", "serve" }
end

--- Start the child Neovim with the plugin from this checkout, set up with `opts`.
---@param opts? table
function H.start(opts)
  H.chan = vim.fn.jobstart({ vim.v.progpath, "--clean", "--embed", "--headless" }, { rpc = true })
  H.check(H.chan > 0, "could not start " .. vim.v.progpath)
  H.lua("package.path = ... .. '/?.lua;' .. package.path", H.tests_dir)
  -- Without $PAIRLINE_SERVER_CMD `cmd` stays unset: the plugin picks the server itself.
  local base = os.getenv("PAIRLINE_SERVER_CMD") and { cmd = H.server_cmd() } or {}
  H.call("setup", H.plugin_root, vim.tbl_deep_extend("force", base, opts or {}))
end

--- The text of `:checkhealth pairline` run in the child.
---@return string
function H.checkhealth()
  return H.lua([[
    vim.cmd("checkhealth pairline")
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.bo[buf].filetype == "checkhealth" then
        local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
        vim.api.nvim_buf_delete(buf, { force = true })
        return text
      end
    end
  ]])
end

--- Open a copy of the shipped sample in the child; wait for the model to be ready.
---@return integer bufnr
function H.open_sample()
  return H.open_fixture("sample.py", "stats.py")
end

--- Open a copy of tests/fixtures/`name` (named `as`) in the child; wait for the model to be ready.
---@param name string
---@param as? string
---@return integer bufnr
function H.open_fixture(name, as)
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, "p")
  local path = dir .. "/" .. (as or name)
  vim.fn.writefile(vim.fn.readfile(H.repo_root .. "/tests/fixtures/" .. name), path)
  local bufnr = H.call("edit", path)
  H.wait("pairline to attach", function()
    return H.call("client_id", bufnr)
  end)
  H.wait("the model to be ready", function()
    local status = H.lua("return require('pairline').status(...)", bufnr)
    if status and status.state == "error" then
      H.fail("server error: " .. status.message)
    end
    return status and status.state == "ready"
  end)
  return bufnr
end

--- Run `fn`; exit 0 when it returns, 1 with the traceback when it throws.
---@param fn fun()
function H.run(fn)
  local ok, err = xpcall(fn, debug.traceback)
  if not ok then
    H.fail(tostring(err))
  end
  if H.chan then
    -- Shut servers down cleanly so no process outlives the test.
    pcall(H.call, "stop_clients")
    vim.fn.jobstop(H.chan)
  end
  vim.cmd("qall!")
end

return H
