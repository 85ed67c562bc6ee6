--- Options: defaults, deep-merge and validation.
local M = {}

---@class pairline.Keymaps
---@field accept string|false Accept the whole suggestion (falls back to the key itself).
---@field accept_word string|false Accept the next word of the suggestion.
---@field accept_line string|false Accept the rest of the current line of the suggestion.
---@field dismiss string|false Hide the suggestion without leaving insert mode.

---@class pairline.NextEditKeymaps
---@field accept string|false Normal mode, while an edit shows: jump to it, then apply it.
---@field dismiss string|false Normal mode, while an edit shows: hide it.

---@class pairline.NextEditConfig
---@field enabled boolean Next-edit suggestions on at start.
---@field debounce_ms integer Wait after an edit (or leaving insert mode) before asking.
---@field keymaps pairline.NextEditKeymaps

---@class pairline.Config
---@field cmd string[] Command that starts the server (stdio); unset: `pairline` on PATH, else :Pairline install's.
---@field filetypes string[] Filetypes the server attaches to.
---@field root_markers string[] Files that mark a project root.
---@field settings table Server settings (README "Configuration"), sent as init_options.
---@field debounce_ms integer Wait after the last keystroke before asking (Neovim 0.11).
---@field ghost_text { position: "inline"|"overlay", hl_group: string }
---@field keymaps pairline.Keymaps
---@field notify_progress boolean Show model loading with vim.notify.
---@field enabled boolean Inline suggestions on at start.
---@field install { python: string?, pip_args: string[], env: table<string, string> } How :Pairline install works.
---@field next_edit pairline.NextEditConfig

---@type pairline.Config
M.defaults = {
  cmd = { "pairline", "serve" },
  filetypes = { "python", "lua", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust" },
  root_markers = { ".git", "pyproject.toml", "package.json", "go.mod", "Cargo.toml" },
  settings = {},
  debounce_ms = 150,
  ghost_text = { position = "inline", hl_group = "PairlineGhostText" },
  keymaps = {
    accept = "<Tab>",
    accept_word = "<M-Right>",
    accept_line = "<M-C-Right>",
    dismiss = "<C-]>",
  },
  notify_progress = true,
  enabled = true,
  install = {
    python = nil, -- a Python >= 3.11 to build the virtualenv with; nil: python3/python on PATH
    pip_args = {}, -- extra `pip install` arguments, e.g. { "--find-links", "/wheels" }
    env = {}, -- extra environment for pip, e.g. { CMAKE_ARGS = "-DGGML_CUDA=on" }
  },
  next_edit = {
    enabled = true,
    debounce_ms = 300,
    keymaps = { accept = "<Tab>", dismiss = "<Esc>" },
  },
}

--- Whether `cmd` came from the user (else it follows what is installed).
M.user_cmd = false

---@type pairline.Config
M.options = vim.deepcopy(M.defaults)

local function key(v)
  return v == false or type(v) == "string"
end

---@param list any
---@return boolean
local function string_list(list)
  if not vim.islist(list) then
    return false
  end
  for _, v in ipairs(list) do
    if type(v) ~= "string" then
      return false
    end
  end
  return true
end

--- Raise a readable error for the first invalid option.
---@param o pairline.Config
local function validate(o)
  vim.validate("cmd", o.cmd, function(v)
    return string_list(v) and #v > 0
  end, "non-empty list of strings")
  vim.validate("filetypes", o.filetypes, string_list, "list of strings")
  vim.validate("root_markers", o.root_markers, string_list, "list of strings")
  vim.validate("settings", o.settings, "table")
  vim.validate("debounce_ms", o.debounce_ms, function(v)
    return type(v) == "number" and v >= 0
  end, "number >= 0")
  vim.validate("ghost_text", o.ghost_text, "table")
  vim.validate("ghost_text.position", o.ghost_text.position, function(v)
    return v == "inline" or v == "overlay"
  end, '"inline" or "overlay"')
  vim.validate("ghost_text.hl_group", o.ghost_text.hl_group, "string")
  vim.validate("keymaps", o.keymaps, "table")
  for _, name in ipairs({ "accept", "accept_word", "accept_line", "dismiss" }) do
    vim.validate("keymaps." .. name, o.keymaps[name], key, "key string or false")
  end
  vim.validate("notify_progress", o.notify_progress, "boolean")
  vim.validate("enabled", o.enabled, "boolean")
  vim.validate("install", o.install, "table")
  vim.validate("install.python", o.install.python, "string", true)
  vim.validate("install.pip_args", o.install.pip_args, string_list, "list of strings")
  vim.validate("install.env", o.install.env, "table")
  vim.validate("next_edit", o.next_edit, "table")
  vim.validate("next_edit.enabled", o.next_edit.enabled, "boolean")
  vim.validate("next_edit.debounce_ms", o.next_edit.debounce_ms, function(v)
    return type(v) == "number" and v >= 0
  end, "number >= 0")
  vim.validate("next_edit.keymaps", o.next_edit.keymaps, "table")
  for _, name in ipairs({ "accept", "dismiss" }) do
    vim.validate("next_edit.keymaps." .. name, o.next_edit.keymaps[name], key, "key string or false")
  end
end

--- Merge `opts` over the defaults, validate, and make the result current.
---@param opts? table
---@return pairline.Config
function M.apply(opts)
  vim.validate("opts", opts, "table", true)
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  -- Lists replace, never merge index by index (a shorter `cmd` must not keep old tail items).
  for _, name in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if opts and opts[name] ~= nil then
      merged[name] = opts[name]
    end
  end
  if opts and opts.install and opts.install.pip_args ~= nil then
    merged.install.pip_args = opts.install.pip_args
  end
  local user_cmd = opts ~= nil and opts.cmd ~= nil
  if not user_cmd then
    merged.cmd = require("pairline.install").default_cmd()
  end
  validate(merged)
  M.user_cmd = user_cmd
  M.options = merged
  return merged
end

return M
