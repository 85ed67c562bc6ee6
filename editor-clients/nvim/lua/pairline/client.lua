--- Starting `pairline serve` for buffers of the configured filetypes: a `vim.lsp.config` entry
--- named "pairline" that `vim.lsp.enable` attaches, one server per project root.
local M = {}

M.name = "pairline"

local function options()
  return require("pairline.config").options
end

--- The config for `vim.lsp.config`, made from the current options.
---@return vim.lsp.Config
local function lsp_config()
  local o = options()
  -- An empty Lua table would be sent as a JSON array; the server wants an object or nothing.
  local settings = next(o.settings) and o.settings or nil
  return {
    cmd = o.cmd,
    filetypes = o.filetypes,
    -- Without a marker the working directory is the root, so every buffer gets a server.
    root_dir = function(bufnr, on_dir)
      on_dir(vim.fs.root(bufnr, options().root_markers) or vim.fn.getcwd())
    end,
    -- Merged over Neovim's own; 0.11 does not declare inline completion itself.
    capabilities = { textDocument = { inlineCompletion = { dynamicRegistration = false } } },
    init_options = settings,
    settings = settings and { pairline = settings } or nil,
    handlers = { ["pairline/status"] = require("pairline.status").on_status },
    on_init = function(client)
      require("pairline.status").started(client.id)
      require("pairline.inline").guard(client)
    end,
    on_exit = function(_, _, client_id)
      vim.schedule(function()
        require("pairline.status").stopped(client_id)
      end)
    end,
  }
end

--- Neovim skips a config whose command is not executable without a word; say it once, when a
--- buffer pairline would serve is opened.
---@param bufnr integer
local function warn_if_no_cmd(bufnr)
  local o = options()
  if
    vim.bo[bufnr].buftype == ""
    and vim.tbl_contains(o.filetypes, vim.bo[bufnr].filetype)
    and vim.fn.executable(o.cmd[1]) ~= 1
  then
    local fix = require("pairline.config").user_cmd and "see :checkhealth pairline"
      or "run :Pairline install to set up the server"
    vim.notify_once(("pairline: %q is not executable; %s"):format(o.cmd[1], fix), vim.log.levels.WARN)
  end
end

function M.setup()
  -- Replaced whole, not merged: options dropped from a new setup() call must go.
  vim.lsp.config[M.name] = lsp_config()
  vim.lsp.enable(M.name)
  local group = vim.api.nvim_create_augroup("pairline.client", { clear = true })
  if vim.v.vim_did_enter == 0 then
    -- vim.lsp.enable() attaches buffers that are already open only once Neovim has started,
    -- and setup() from a `-c` command runs after the files named on the command line loaded.
    vim.api.nvim_create_autocmd("VimEnter", {
      group = group,
      once = true,
      callback = function()
        vim.lsp.enable(M.name)
      end,
    })
  end
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = options().filetypes,
    callback = function(ev)
      warn_if_no_cmd(ev.buf)
    end,
  })
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then
      warn_if_no_cmd(buf)
    end
  end
end

--- The running pairline clients, all or those matching `filter` (see vim.lsp.get_clients()).
---@param filter? vim.lsp.get_clients.Filter
---@return vim.lsp.Client[]
function M.clients(filter)
  return vim.lsp.get_clients(vim.tbl_extend("force", filter or {}, { name = M.name }))
end

--- Stop every pairline client and start fresh ones for the buffers of the configured filetypes.
function M.restart()
  local clients = M.clients()
  vim.lsp.enable(M.name, false)
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
  vim.lsp.enable(M.name)
end

return M
