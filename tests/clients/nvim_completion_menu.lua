-- Neovim's built-in LSP completion menu (vim.lsp.completion, autotrigger) shows pairline's
-- item and accepting it inserts the suggestion. Run: nvim --clean --headless -l THIS_FILE
-- with PAIRLINE_SERVER_CMD (a JSON list) and PAIRLINE_WORKDIR set. Exits 1 on failure.

local server_cmd = vim.json.decode(assert(os.getenv("PAIRLINE_SERVER_CMD")))
local workdir = assert(os.getenv("PAIRLINE_WORKDIR"))

local function fail(msg)
  io.stderr:write("FAIL: " .. msg .. "\n")
  vim.cmd("cquit 1")
end

-- A child Neovim driven over RPC behaves like an interactive one: insert mode, popup menu.
local child = vim.fn.jobstart({ vim.v.progpath, "--embed", "--headless", "--clean" }, { rpc = true })
local function lua(code, ...)
  return vim.rpcrequest(child, "nvim_exec_lua", code, { ... })
end
local function wait_for(what, pred, timeout_ms)
  timeout_ms = timeout_ms or tonumber(os.getenv("PAIRLINE_WAIT_MS") or "180000")
  local value
  local ok = vim.wait(timeout_ms, function()
    value = pred()
    return value ~= nil and value ~= false
  end, 50)
  if not ok then
    fail("timed out waiting for " .. what)
  end
  return value
end

local path = workdir .. "/paths.py"
vim.fn.writefile({ "import os", "", "", "def config_file(name):", "    return os.path" }, path)

lua([[
  local cmd, path = ...
  vim.g.loaded_python3_provider = 0
  vim.o.swapfile = false
  vim.o.completeopt = "menuone,noselect,popup"
  vim.cmd.edit(path)
  _G.client_id = vim.lsp.start({
    name = "pairline",
    cmd = cmd,
    root_dir = vim.fs.dirname(path),
    init_options = { completion = { cache = false } },
  })
]], server_cmd, path)

wait_for("the server to advertise completion items", function()
  return lua([[
    local client = vim.lsp.get_client_by_id(_G.client_id)
    local provider = client and client.initialized and client.server_capabilities.completionProvider
    return type(provider) == "table" and type(provider.triggerCharacters) == "table"
  ]])
end)
-- Enabled once initialized: autotrigger reads the server's trigger characters then.
lua([[vim.lsp.completion.enable(true, _G.client_id, 0, { autotrigger = true })]])

-- Type "." at the end of the last line: a trigger character.
vim.rpcrequest(child, "nvim_input", "GA.")
local items = wait_for("pairline's item in the popup menu", function()
  local info = lua([[return vim.fn.complete_info({ "items", "pum_visible" })]])
  if #info.items > 0 then
    return info.items
  end
end)
local item = items[1]
if item.word == nil or vim.trim(item.word) == "" then
  fail("empty completion item: " .. vim.inspect(item))
end
io.stdout:write("menu item: " .. vim.inspect(item.word) .. " " .. vim.inspect(item.menu) .. "\n")

-- Select it and accept.
vim.rpcrequest(child, "nvim_input", "<C-n><C-y><Esc>")
local line = wait_for("the accepted text in the buffer", function()
  local current = lua([[return vim.api.nvim_buf_get_lines(0, 4, 5, false)[1] ]])
  if current ~= "    return os.path." then
    return current
  end
end)
local expected = "    return os.path." .. item.word
if line ~= expected then
  fail(("after accepting: %q, expected %q"):format(line, expected))
end
io.stdout:write("accepted: " .. line .. "\n")
vim.fn.jobstop(child)
vim.cmd("qall!")
