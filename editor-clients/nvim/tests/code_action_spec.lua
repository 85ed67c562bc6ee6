-- Code actions go through vim.lsp.buf.code_action() to the server and back without error.
-- (The server offers no "Fix this" yet; when it does, this spec applies it and checks the buffer.)
package.path = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/?.lua;" .. package.path
local H = require("helpers")

H.run(function()
  H.start()
  local bufnr = H.open_sample()
  H.lua("vim.api.nvim_win_set_cursor(0, { 21, 4 })")

  -- The request itself: the server answers with a list of actions (possibly empty), no error.
  local response = H.lua([[
    local client = vim.lsp.get_clients({ bufnr = 0, name = "pairline" })[1]
    local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
    params.context = { diagnostics = {}, only = { "quickfix" } }
    local r = client:request_sync("textDocument/codeAction", params, 30000, 0)
    return { err = r and r.err and vim.inspect(r.err), is_list = r and vim.islist(r.result or {}), result = r and vim.inspect(r.result) }
  ]])
  H.eq(response.err, nil, "codeAction error")
  H.check(response.is_list, "codeAction result is a list: " .. tostring(response.result))

  -- The user's path: `:Pairline fix` runs vim.lsp.buf.code_action(). With nothing to offer it
  -- says so; with actions it opens vim.ui.select, answered here by recording the titles.
  local before = H.call("buffer_text", bufnr)
  H.lua([[
    _G.notifications, _G.offered = {}, nil
    vim.ui.select = function(items, opts, on_choice)
      _G.offered = vim.tbl_map(function(item)
        return (opts.format_item or tostring)(item)
      end, items)
      on_choice(nil)
    end
    vim.cmd("Pairline fix")
  ]])
  H.wait("the code action answer", function()
    return H.lua("return #_G.notifications > 0 or _G.offered ~= nil")
  end)
  for _, m in ipairs(H.lua("return _G.notifications")) do
    H.check(m.level ~= vim.log.levels.ERROR, "no error: " .. m.msg)
  end
  if response.result == "{}" then
    H.eq(H.lua("return _G.notifications[1].msg"), "No code actions available", "the empty answer reached the UI")
  else
    H.check(H.lua("return _G.offered and #_G.offered > 0"), "the server's actions were offered")
  end
  H.eq(H.call("buffer_text", bufnr), before, "nothing applied without a choice")
end)
