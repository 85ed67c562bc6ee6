--- Starting `pairline serve` and attaching it to buffers with vim.lsp.start.
local M = {}

local function options()
  return require("pairline.config").options
end

--- Client capabilities: Neovim 0.11 does not declare inline completion itself.
---@return lsp.ClientCapabilities
local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.textDocument = caps.textDocument or {}
  caps.textDocument.inlineCompletion = caps.textDocument.inlineCompletion or { dynamicRegistration = false }
  return caps
end

---@return vim.lsp.ClientConfig
local function client_config(bufnr)
  local o = options()
  -- An empty Lua table would be sent as a JSON array; the server wants an object or nothing.
  local settings = next(o.settings) and o.settings or nil
  return {
    name = "pairline",
    cmd = o.cmd,
    root_dir = vim.fs.root(bufnr, o.root_markers) or vim.fn.getcwd(),
    capabilities = capabilities(),
    init_options = settings,
    settings = settings and { pairline = settings } or nil,
    handlers = { ["pairline/status"] = require("pairline.status").on_status },
    on_init = function(client)
      require("pairline.status").started(client.id)
    end,
    on_exit = function(_, _, client_id)
      vim.schedule(function()
        require("pairline.status").stopped(client_id)
      end)
    end,
  }
end

--- Start the server if needed and attach it to `bufnr`.
---@param bufnr integer
---@return integer? client_id
function M.attach(bufnr)
  if vim.bo[bufnr].buftype ~= "" or not vim.tbl_contains(options().filetypes, vim.bo[bufnr].filetype) then
    return nil
  end
  if vim.fn.executable(options().cmd[1]) ~= 1 then
    vim.notify_once(
      ("pairline: %q is not executable; see :checkhealth pairline"):format(options().cmd[1]),
      vim.log.levels.WARN
    )
    return nil
  end
  return vim.lsp.start(client_config(bufnr), {
    bufnr = bufnr,
    -- One server per root: a second buffer in the same project reuses it.
    reuse_client = function(client, config)
      return client.name == config.name and client.root_dir == config.root_dir and not client:is_stopped()
    end,
  })
end

function M.setup()
  local group = vim.api.nvim_create_augroup("pairline.client", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = options().filetypes,
    callback = function(ev)
      M.attach(ev.buf)
    end,
  })
  -- Buffers opened before setup() ran (e.g. `nvim file.py` with a lazy-loaded plugin).
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then
      M.attach(buf)
    end
  end
end

---@return vim.lsp.Client[]
function M.clients()
  return vim.lsp.get_clients({ name = "pairline" })
end

--- Stop every pairline client and start fresh ones for the buffers they served.
function M.restart()
  local buffers = {}
  local clients = M.clients()
  for _, client in ipairs(clients) do
    for buf in pairs(client.attached_buffers) do
      buffers[buf] = true
    end
    client:stop()
  end
  -- A client that is still shutting down would be reused, so wait for it to go.
  vim.wait(5000, function()
    return vim.iter(clients):all(function(c)
      return c:is_stopped()
    end)
  end, 20)
  for _, client in ipairs(clients) do
    if not client:is_stopped() then
      client:stop(true)
    end
  end
  for buf in pairs(buffers) do
    if vim.api.nvim_buf_is_loaded(buf) then
      M.attach(buf)
    end
  end
end

return M
