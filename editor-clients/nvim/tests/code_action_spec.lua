-- Code actions go through vim.lsp.buf.code_action() to the server and back without error, and
-- "Fix this" (local model; resolved when picked) edits the buffer.
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
    params.context = { diagnostics = {} }
    local r = client:request_sync("textDocument/codeAction", params, 30000, 0)
    local quickfixes = vim.tbl_filter(function(a)
      return a.kind == "quickfix"
    end, r and r.result or {})
    return {
      err = r and r.err and vim.inspect(r.err),
      is_list = r and vim.islist(r.result or {}),
      result = r and vim.inspect(r.result),
      quickfixes = #quickfixes,
    }
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
  if response.quickfixes == 0 then
    H.eq(H.lua("return _G.notifications[1].msg"), "No code actions available", "the empty answer reached the UI")
  else
    H.check(H.lua("return _G.offered and #_G.offered > 0"), "the server's actions were offered")
  end
  H.eq(H.call("buffer_text", bufnr), before, "nothing applied without a choice")

  -- "Fix this" on a real bug: select the function (`:1,3Pairline fix`), pick the action; Neovim
  -- resolves it (the model runs then) and applies the edit. (Neovim sends only a server's own
  -- diagnostics in the request, so the selection is what marks the region here.)
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, "p")
  local buggy = {
    "def add_numbers(a, b):",
    '    """Return the sum of a and b."""',
    "    return a - b",
    "",
    "",
    "def area(r):",
    "    pass",
  }
  vim.fn.writefile(buggy, dir .. "/buggy.py")
  local fix_buf = H.call("edit", dir .. "/buggy.py")
  H.wait("pairline on the second file", function()
    return H.call("client_id", fix_buf)
  end)
  H.lua([[
    vim.api.nvim_win_set_cursor(0, { 3, 6 })
    _G.notifications, _G.offered = {}, nil
    vim.ui.select = function(items, opts, on_choice)
      _G.offered = vim.tbl_map(function(item)
        return (opts.format_item or tostring)(item)
      end, items)
      for i, title in ipairs(_G.offered) do
        if title:find("Fix this", 1, true) then
          return on_choice(items[i], i)
        end
      end
      on_choice(nil)
    end
    vim.cmd("1,3Pairline fix")
  ]])
  local lines = H.wait("the fix applied", function()
    local now = H.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)")
    return not vim.deep_equal(now, buggy) and now
  end)
  H.check(
    vim.iter(H.lua("return _G.offered") or {}):any(function(t)
      return t:find("Fix this", 1, true) ~= nil
    end),
    "Fix this was offered"
  )
  H.check(not vim.tbl_contains(lines, "    return a - b"), "the buggy line is gone: " .. vim.inspect(lines))
  H.eq(vim.list_slice(lines, #lines - 1), { "def area(r):", "    pass" }, "the other function untouched")
  H.eq(H.call("server_text", fix_buf), H.call("buffer_text", fix_buf), "the server holds the fixed text")
  for _, m in ipairs(H.lua("return _G.notifications")) do
    H.check(m.level ~= vim.log.levels.ERROR, "no error: " .. m.msg)
  end
end)
