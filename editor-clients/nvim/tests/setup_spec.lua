-- setup(): deep-merge and validation; :Pairline toggle / restart / status; the statusline.
package.path = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/?.lua;" .. package.path
local H = require("helpers")

H.run(function()
  H.start({ keymaps = { dismiss = false }, ghost_text = { position = "overlay" } })

  -- Deep merge: a nested option changes, its siblings keep their defaults.
  local o = H.lua("return require('pairline.config').options")
  H.eq(o.keymaps.dismiss, false, "keymaps.dismiss")
  H.eq(o.keymaps.accept, "<Tab>", "keymaps.accept keeps its default")
  H.eq(o.ghost_text, { position = "overlay", hl_group = "PairlineGhostText" }, "ghost_text")
  H.eq(o.cmd, H.server_cmd(), "cmd replaced whole")
  H.eq(
    o.next_edit,
    { enabled = true, debounce_ms = 300, keymaps = { accept = "<Tab>", dismiss = "<Esc>" } },
    "next_edit defaults"
  )

  -- Validation names the bad option.
  for _, case in ipairs({
    { { debounce_ms = "fast" }, "debounce_ms" },
    { { cmd = {} }, "cmd" },
    { { ghost_text = { position = "left" } }, "ghost_text.position" },
    { { keymaps = { accept = 1 } }, "keymaps.accept" },
    { { filetypes = "python" }, "filetypes" },
    { { next_edit = { debounce_ms = -1 } }, "next_edit.debounce_ms" },
    { { next_edit = { keymaps = { accept = 1 } } }, "next_edit.keymaps.accept" },
    { { next_edit = { enabled = "yes" } }, "next_edit.enabled" },
  }) do
    local err = H.lua("local ok, err = pcall(require('pairline').setup, ...) return not ok and err or nil", case[1])
    H.check(
      err and err:find(case[2], 1, true),
      ("setup(%s) rejected naming %s, got %s"):format(vim.inspect(case[1]), case[2], tostring(err))
    )
  end
  H.lua("require('pairline').setup({ cmd = ... })", H.server_cmd())

  local bufnr = H.open_sample()
  -- Model loading was shown: $/progress through vim.notify, then the ready status.
  local messages = vim.tbl_map(function(n)
    return n.msg
  end, H.lua("return _G.notifications"))
  local progress = vim.tbl_filter(function(m)
    return vim.startswith(m, "pairline: ")
  end, messages)
  H.check(
    #progress >= 2 and progress[#progress]:find("ready$"),
    "loading progress, then ready: " .. vim.inspect(messages)
  )
  H.eq(H.lua("return require('pairline').statusline()"), "pairline ✓", "statusline when ready")

  H.lua("vim.cmd('Pairline toggle')")
  H.eq(H.lua("return require('pairline.inline').is_enabled()"), false, "toggled off")
  H.eq(H.lua("return require('pairline').statusline()"), "pairline ✓ (off)", "statusline when off")
  H.lua("vim.cmd('Pairline toggle')")
  H.eq(H.lua("return require('pairline.inline').is_enabled()"), true, "toggled on")

  -- Restart: a new server process takes over the buffer and loads the model again.
  local old = H.call("client_id", bufnr)
  H.lua("vim.cmd('Pairline restart')")
  H.wait("a new client on the buffer", function()
    local id = H.call("client_id", bufnr)
    return id and id ~= old
  end)
  H.wait("the model ready after restart", function()
    local status = H.lua("return require('pairline').status(...)", bufnr)
    return status and status.state == "ready"
  end)
  H.eq(H.lua("return #vim.lsp.get_clients({ name = 'pairline' })"), 1, "one pairline client after restart")

  -- :help pairline works (tags built in a scratch copy, never in the checkout).
  local docs = vim.fn.tempname()
  vim.fn.mkdir(docs .. "/doc", "p")
  vim.fn.writefile(vim.fn.readfile(H.plugin_root .. "/doc/pairline.txt"), docs .. "/doc/pairline.txt")
  local help = H.lua(
    [[
    local dir = ...
    vim.opt.runtimepath:prepend(dir)
    vim.cmd("helptags " .. vim.fn.fnameescape(dir .. "/doc"))
    local found = {}
    for _, tag in ipairs({ "pairline", "pairline-setup", "pairline.accept()", "pairline-health" }) do
      vim.cmd.help(tag)
      table.insert(found, vim.fs.basename(vim.api.nvim_buf_get_name(0)))
    end
    return found
  ]],
    docs
  )
  H.eq(help, { "pairline.txt", "pairline.txt", "pairline.txt", "pairline.txt" }, ":help pairline tags")
end)
