-- Only the :Pairline command lives here; nothing starts until require("pairline").setup().
if vim.g.loaded_pairline then
  return
end
vim.g.loaded_pairline = true

local subcommands = {
  toggle = function()
    local pairline = require("pairline")
    pairline.toggle()
    vim.notify("pairline: suggestions " .. (require("pairline.inline").is_enabled() and "on" or "off"))
  end,
  enable = function()
    require("pairline").toggle(true)
  end,
  disable = function()
    require("pairline").toggle(false)
  end,
  restart = function()
    require("pairline").restart()
  end,
  status = function()
    local status = require("pairline").status()
    vim.notify(
      status and ("pairline: %s %s"):format(status.state, status.message) or "pairline: not attached to this buffer"
    )
  end,
  install = function(cmd)
    require("pairline.install").command(vim.list_slice(cmd.fargs, 2))
  end,
  nextedit = function(cmd)
    local arg = cmd.fargs[2] or "toggle"
    local on = ({ on = true, off = false, toggle = nil })[arg]
    if on == nil and arg ~= "toggle" then
      vim.notify("pairline: :Pairline nextedit on|off|toggle, not " .. arg, vim.log.levels.ERROR)
      return
    end
    require("pairline").toggle_next_edit(on)
    vim.notify("pairline: next edits " .. (require("pairline.nextedit").is_enabled() and "on" or "off"))
  end,
  fix = function(cmd)
    -- Servers (pairline among them) answer with quick fixes only; Neovim filters the rest too.
    local opts = { context = { only = { "quickfix" } } }
    if cmd.range > 0 then
      -- `:'<,'>Pairline fix`: the selected lines are the region to fix.
      local last = vim.api.nvim_buf_get_lines(0, cmd.line2 - 1, cmd.line2, true)[1]
      opts.range = { start = { cmd.line1, 0 }, ["end"] = { cmd.line2, #last } }
    end
    require("pairline").code_action(opts)
  end,
}

vim.api.nvim_create_user_command("Pairline", function(cmd)
  local name = cmd.fargs[1] or "status"
  local run = subcommands[name]
  if not run then
    vim.notify("pairline: unknown subcommand " .. name, vim.log.levels.ERROR)
    return
  end
  -- install works before setup(): a plugin manager's build step may run it first.
  if not require("pairline").did_setup and name ~= "status" and name ~= "install" then
    vim.notify('pairline: call require("pairline").setup() first', vim.log.levels.WARN)
    return
  end
  run(cmd)
end, {
  nargs = "*",
  range = true,
  desc = "pairline: toggle | enable | disable | restart | status | fix | install [cancel] | nextedit [on|off|toggle]",
  complete = function(lead, line)
    local words = vim.split(line, "%s+", { trimempty = true })
    local previous = words[#words - (lead == "" and 0 or 1)]
    local names = ({ nextedit = { "on", "off", "toggle" }, install = { "cancel" } })[previous]
      or vim.tbl_keys(subcommands)
    return vim.tbl_filter(function(name)
      return vim.startswith(name, lead)
    end, names)
  end,
})
