-- Type in insert mode, see ghost text, accept it (whole, by word, by line), dismiss it, and
-- never see it go stale. Real server, real model; Neovim 0.11 and 0.12.
package.path = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/?.lua;" .. package.path
local H = require("helpers")

local LINE = "    return [(x - m) / s for"

H.run(function()
  H.start()
  local bufnr = H.open_sample()
  local builtin = H.lua("return require('pairline.inline').builtin")
  H.eq(builtin, vim.fn.has("nvim-0.12") == 1, "built-in inline completion used exactly on 0.12+")

  -- The last line of the sample is `    return `; retype it and wait for a suggestion.
  H.lua("vim.api.nvim_win_set_cursor(0, { 36, 0 })")
  H.input("0C" .. LINE)
  local ghost = H.wait("ghost text", function()
    return H.call("ghost", bufnr)
  end)
  H.check(ghost.text and ghost.text ~= "", "the ghost text has text")
  H.eq(ghost.namespace, builtin and "nvim.lsp.inline_completion" or "pairline.ghost", "who draws the ghost text")
  H.eq(H.call("where"), { line = LINE, cursor = { 36, #LINE }, mode = "i" }, "ghost text is not in the buffer")
  H.eq({ ghost.row, ghost.col }, { 35, #LINE }, "ghost text sits at the cursor")
  local suggestion = ghost.text

  -- Accept all with the default <Tab>.
  local expected = H.call("with_insert", bufnr, suggestion)
  H.input("<Tab>")
  H.wait("the accepted suggestion in the buffer", function()
    return H.call("buffer_text", bufnr) == expected
  end)
  H.eq(H.call("server_text", bufnr), expected, "the server holds the accepted text")
  -- The accept runs the item's command (Neovim's own on 0.12, the plugin's on 0.11): local stats.
  local function accepts_reported(n, what)
    H.wait(what, function()
      return H.call("server_stats", bufnr).accept_commands == n
    end)
  end
  accepts_reported(1, "the accept reported to the server")

  -- <Esc> hides whatever came next, and leaves nothing behind.
  H.input("<Esc>")
  H.wait("normal mode", function()
    return H.call("where").mode == "n"
  end)
  H.eq(H.call("ghost", bufnr), nil, "no ghost text after <Esc>")

  -- The same line again gets the same suggestion; accept a word of it (default <M-Right>).
  H.input("0C" .. LINE)
  ghost = H.wait("ghost text again", function()
    return H.call("ghost", bufnr)
  end)
  local word = H.call("first_piece", ghost.text, "word")
  H.check(#word < #ghost.text, "a multi-word suggestion: " .. vim.inspect(ghost.text))
  H.input("<M-Right>")
  H.wait("one word accepted", function()
    return H.call("where").line == LINE .. word
  end)
  H.eq(H.call("where").cursor, { 36, #LINE + #word }, "cursor after the accepted word")
  accepts_reported(2, "the partial accept reported to the server")

  if not builtin then
    -- Pairline's own ghost text keeps the rest without asking again, and <M-C-Right> takes it.
    local rest = ghost.text:sub(#word + 1)
    H.eq(H.call("ghost", bufnr).text, rest, "the rest stays as ghost text")
    local line = H.call("first_piece", rest, "line")
    H.input("<M-C-Right>")
    H.wait("the line accepted", function()
      return H.call("where").line == LINE .. word .. line
    end)
    accepts_reported(3, "the second partial accept reported to the server")
    H.input("<Esc>")
    H.wait("normal mode", function()
      return H.call("where").mode == "n"
    end)

    -- Typing the suggestion's next character keeps the rest of it on screen.
    H.input("0C" .. LINE)
    ghost = H.wait("ghost text for typing through", function()
      return H.call("ghost", bufnr)
    end)
    local first = ghost.text:sub(1, 1)
    H.input(first == "<" and "<lt>" or first)
    H.wait("typed through", function()
      return H.call("where").line == LINE .. first
    end)
    ghost = H.call("ghost", bufnr)
    H.eq(ghost and ghost.text, suggestion:sub(2), "typing through keeps the rest")
    H.eq({ ghost.row, ghost.col }, { 35, #LINE + 1 }, "the rest follows the cursor")

    -- Typing something else: the old ghost text goes at once, never left stale.
    H.input("#")
    H.wait("the keystroke", function()
      return H.call("where").line == LINE .. first .. "#"
    end)
    ghost = H.call("ghost", bufnr)
    H.check(ghost == nil or ghost.col == #LINE + 2, "no stale ghost text after an edit: " .. vim.inspect(ghost))

    -- Moving the cursor dismisses it too.
    H.input("<BS><BS>")
    H.wait("ghost text before moving", function()
      return H.call("ghost", bufnr)
    end)
    H.input("<Left>")
    H.wait("the cursor move", function()
      return H.call("where").cursor[2] == #LINE - 1
    end)
    ghost = H.call("ghost", bufnr)
    H.check(ghost == nil or ghost.col == #LINE - 1, "no stale ghost text after a cursor move: " .. vim.inspect(ghost))
  end

  if not builtin then
    -- A keystroke while a request is in flight cancels it, and a late answer is never shown.
    -- Answers are held back in the child (the requests still go to the real server) so the
    -- order of events does not depend on how fast the model is; then whatever came back is
    -- handed over in order.
    H.input("<Esc>0C" .. LINE)
    H.wait("insert mode", function()
      return H.call("where").line == LINE
    end)
    H.lua([[
      local client = vim.lsp.get_clients({ bufnr = 0, name = "pairline" })[1]
      _G.held, _G.cancelled, _G.sent = {}, {}, {}
      local request, cancel = client.request, client.cancel_request
      _G.unhook = function()
        client.request, client.cancel_request = request, cancel
      end
      client.request = function(self, method, params, handler, b)
        if method ~= "textDocument/inlineCompletion" then
          return request(self, method, params, handler, b)
        end
        local ok, id = request(self, method, params, function(...)
          table.insert(_G.held, { handler = handler, args = { ... } })
        end, b)
        table.insert(_G.sent, id)
        return ok, id
      end
      client.cancel_request = function(self, id)
        table.insert(_G.cancelled, id)
        return cancel(self, id)
      end
    ]])
    H.input("(")
    local id = H.wait("a request in flight", function()
      return H.lua("return _G.sent[1]")
    end)
    H.input("#")
    H.wait("the request cancelled", function()
      return vim.tbl_contains(H.lua("return _G.cancelled"), id)
    end)
    H.lua([[
      _G.unhook()
      for _, h in ipairs(_G.held) do
        h.handler(unpack(h.args, 1, 3))
      end
    ]])
    ghost = H.call("ghost", bufnr)
    H.check(ghost == nil or ghost.col == #LINE + 2, "a superseded answer is not shown: " .. vim.inspect(ghost))
  end

  -- Whatever the edits, the server's copy of the buffer matches Neovim's.
  H.input("<Esc>")
  H.wait("normal mode", function()
    return H.call("where").mode == "n"
  end)
  H.eq(H.call("ghost", bufnr), nil, "no ghost text in normal mode")
  H.eq(H.call("server_text", bufnr), H.call("buffer_text", bufnr), "server and buffer agree")
end)
