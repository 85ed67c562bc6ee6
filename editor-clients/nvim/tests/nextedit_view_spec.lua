-- Next edits without a server: a stand-in client records the requests and the plugin's answers
-- are the protocol's shape. What is drawn (struck-through text, new text, the off-screen hint),
-- positions in UTF-16, the keys (jump, apply, <Esc>), what dismisses an edit, and that a stale
-- or superseded answer is never shown. Keys go through a real child Neovim's input.
package.path = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/?.lua;" .. package.path
local H = require("helpers")

local FILLER = 60

H.run(function()
  H.start({ next_edit = { debounce_ms = 20 } })
  local bufnr = H.lua(
    [[
    vim.cmd.enew()
    local lines = { "local total = 0", "for _, v in ipairs(xs) do", "  total = total + v", "end" }
    for _ = 1, ... do
      table.insert(lines, "x = 1")
    end
    table.insert(lines, 'print("😀é", total)')
    vim.api.nvim_buf_set_lines(0, 0, -1, true, lines)
    local bufnr = vim.api.nvim_get_current_buf()
    _G.fake = {
      id = 999,
      name = "pairline",
      offset_encoding = "utf-16",
      server_capabilities = { experimental = { pairline = { nextEdit = true } } },
      requests = {}, cancelled = {}, notified = {}, commands = {},
    }
    function _G.fake:is_stopped() return false end
    function _G.fake:request(method, params, handler)
      table.insert(self.requests, { method = method, params = params, handler = handler })
      return true, #self.requests
    end
    function _G.fake:cancel_request(id) table.insert(self.cancelled, id) end
    function _G.fake:notify(method, params) table.insert(self.notified, { method = method, params = params }) end
    function _G.fake:exec_cmd(command) table.insert(self.commands, command) end
    require("pairline.client").clients = function() return { _G.fake } end
    require("pairline.nextedit").attach(bufnr)
    vim.api.nvim_create_autocmd("User", {
      pattern = "PairlineNextEdit",
      callback = function(ev)
        _G.shown_event = ev.data
      end,
    })
    -- The server's answer to request `n`: `edits` with this buffer's uri, at the request's version.
    function _G.answer(n, edits)
      local r = _G.fake.requests[n]
      for _, e in ipairs(edits) do
        e.textDocument = e.textDocument or { uri = r.params.textDocument.uri, version = r.params.textDocument.version }
      end
      r.handler(nil, { edits = edits }, {})
    end
    function _G.marks()
      local ns = require("pairline.nextedit").ns
      return vim.tbl_map(function(m)
        local d = m[4]
        return {
          row = m[2], col = m[3], end_row = d.end_row, end_col = d.end_col, hl = d.hl_group,
          virt_text = d.virt_text and d.virt_text[1][1], pos = d.virt_text_pos,
          virt_lines = d.virt_lines and vim.tbl_map(function(l) return l[1][1] end, d.virt_lines),
        }
      end, vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true }))
    end
    function _G.buffer_map(lhs)
      return vim.fn.maparg(lhs, "n", false, true).buffer == 1
    end
    return bufnr
  ]],
    FILLER
  )
  local last = FILLER + 4 -- 0-based row of the print line
  local function requests()
    return H.lua("return #_G.fake.requests")
  end
  local function wait_request(n, what)
    H.wait(what, function()
      return requests() >= n
    end)
    return H.lua("local r = _G.fake.requests[...] return { method = r.method, params = r.params }", n)
  end
  local function normal()
    H.wait("normal mode", function()
      return H.call("where").mode == "n"
    end)
  end
  local function marks()
    return H.lua("return _G.marks()")
  end

  -- A rename in insert mode; leaving insert mode asks (once) for the next edit at the cursor.
  H.input("0wciwsum<Esc>")
  local r = wait_request(1, "a request after leaving insert mode")
  H.eq(r.method, "textDocument/copilotInlineEdit", "the method")
  H.eq(r.params.position, { line = 0, character = 8 }, "the cursor in the request")
  H.eq(r.params.textDocument.uri, H.lua("return vim.uri_from_bufnr(0)"), "the buffer's uri")
  H.check(type(r.params.textDocument.version) == "number", "the request names the version")

  -- An edit for an older version is skipped; the next one is shown. `total` after "😀é" is at
  -- UTF-16 character 13, byte 16.
  H.lua(
    [[
    local version = _G.fake.requests[1].params.textDocument.version
    local uri = _G.fake.requests[1].params.textDocument.uri
    local range = { start = { line = ..., character = 13 }, ["end"] = { line = ..., character = 18 } }
    _G.item = { text = "sum", range = range, command = { title = "accepted", command = "pairline.nextEditAccepted", arguments = { "e1" } } }
    _G.answer(1, {
      { text = "stale", range = range, textDocument = { uri = uri, version = version - 1 } },
      _G.item,
    })
  ]],
    last
  )
  local m = marks()
  H.eq(#m, 3, "struck text, new text and the off-screen hint: " .. vim.inspect(m))
  -- In buffer order: the hint on the cursor's line first.
  H.eq({ m[1].row, m[1].pos }, { 0, "eol" }, "the hint at the end of the cursor's line")
  H.eq(
    { m[2].row, m[2].col, m[2].end_row, m[2].end_col, m[2].hl },
    { last, 16, last, 21, "PairlineNextEditDelete" },
    "the replaced text struck through, in bytes"
  )
  H.eq({ m[3].row, m[3].col, m[3].virt_text, m[3].pos }, { last, 21, "sum", "inline" }, "the new text after it")
  H.eq(m[1].virt_text, ("  ↓ next edit at line %d (<Tab> jumps)"):format(last + 1), "the hint says where")
  H.eq(H.lua("return _G.fake.notified[1]"), {
    method = "textDocument/didShowInlineEdit",
    params = { item = H.lua("return _G.item") },
  }, "the server told what is shown")
  H.eq(H.lua("return require('pairline').get_next_edit()").old, "total", "the API names the replaced text")
  H.eq(
    H.lua("return _G.shown_event"),
    { bufnr = bufnr, row = last, col = 16, end_row = last, end_col = 21, old = "total", text = "sum" },
    "the PairlineNextEdit event"
  )
  H.check(H.lua("return _G.buffer_map('<Tab>') and _G.buffer_map('<Esc>')"), "keys mapped while it shows")
  local hl = H.lua("return vim.api.nvim_get_hl(0, { name = 'PairlineNextEditDelete' })")
  H.check(hl.strikethrough, "the struck text is drawn struck through: " .. vim.inspect(hl))

  -- <Tab> jumps (into the jumplist), the edit stays; the hint goes once it is on screen.
  H.input("<Tab>")
  H.wait("the jump", function()
    return H.call("where").cursor[1] == last + 1
  end)
  H.eq(H.call("where").cursor, { last + 1, 16 }, "the cursor at the edit")
  H.eq(#marks(), 2, "no hint once the edit is on screen")
  -- <Tab> again applies it, runs its command, and asks for the next one.
  H.input("<Tab>")
  H.wait("the edit applied", function()
    return H.call("where").line == 'print("😀é", sum)'
  end)
  H.eq(H.call("where").cursor, { last + 1, 18 }, "the cursor on the new text's last character")
  H.eq(H.lua("return _G.fake.commands"), { H.lua("return _G.item.command") }, "the edit's command ran")
  H.eq(#marks(), 0, "nothing drawn after applying")
  H.check(not H.lua("return _G.buffer_map('<Tab>')"), "the keys unmapped")
  wait_request(2, "the next request after applying")
  H.input("<C-o>")
  H.wait("back through the jumplist", function()
    return H.call("where").cursor[1] == 1
  end)

  -- The same edit again on row 2 (`  total = total + v`, first `total` at 2..7): each way of
  -- dismissing it.
  local ROW2 =
    { { text = "sum", range = { start = { line = 2, character = 2 }, ["end"] = { line = 2, character = 7 } } } }
  local function show_again(what, edits)
    normal()
    local n = requests()
    H.lua("require('pairline.nextedit').request(vim.api.nvim_get_current_buf())")
    wait_request(n + 1, what)
    H.lua("_G.answer(...)", n + 1, edits or ROW2)
    H.check(#marks() >= 2, what .. ": shown")
  end
  show_again("before <Esc>")
  H.input("<Esc>")
  H.wait("<Esc> dismisses", function()
    return #marks() == 0
  end)
  H.check(not H.lua("return _G.buffer_map('<Esc>')"), "<Esc> unmapped")

  show_again("before moving")
  H.input("l")
  H.wait("the move along the line", function()
    return H.call("where").cursor[2] == 9
  end)
  H.eq(#marks(), 2, "moving along the cursor's line keeps it")
  H.input("4j")
  H.wait("moving away dismisses", function()
    return #marks() == 0
  end)

  H.input("gg")
  show_again("before an edit")
  local n = requests()
  H.input("x")
  H.wait("an edit dismisses", function()
    return #marks() == 0
  end)
  -- ... and asks again after the pause; an edit before the answer cancels that request, and its
  -- late answer is not shown.
  n = n + 1
  wait_request(n, "the request after the edit")
  H.input("x")
  H.wait("the superseded request cancelled", function()
    return vim.tbl_contains(H.lua("return _G.fake.cancelled"), n)
  end)
  H.lua("_G.answer(...)", n, ROW2)
  H.eq(#marks(), 0, "a superseded answer is not shown")
  H.input("uu")

  -- An answer that comes back in insert mode is dropped.
  normal()
  n = requests()
  H.lua("require('pairline.nextedit').request(vim.api.nvim_get_current_buf())")
  wait_request(n + 1, "a request before insert mode")
  H.input("A")
  H.wait("insert mode", function()
    return H.call("where").mode == "i"
  end)
  H.lua("_G.answer(...)", n + 1, ROW2)
  H.eq(#marks(), 0, "nothing shown in insert mode")
  H.input("<Esc>")

  -- Several lines of new text: the lines as they will read, below; a range to the end of the
  -- buffer (the line after the last, character 0) is the end of the last line.
  show_again("a multi-line edit", {
    {
      text = "for _, v in ipairs(ys) do\n  sum = sum + v",
      range = { start = { line = 1, character = 0 }, ["end"] = { line = 2, character = 19 } },
    },
  })
  m = marks()
  H.eq(m[1].row, 1, "the struck text starts at line 2")
  H.eq({ m[1].end_row, m[1].end_col }, { 2, 19 }, "and ends at the end of line 3")
  H.eq(m[2].virt_lines, { "for _, v in ipairs(ys) do", "  sum = sum + v" }, "the new lines below")
  H.eq(
    H.lua(
      "local r, c = require('pairline.nextedit').to_bytes(0, { line = ..., character = 0 }, 'utf-16') return { r, c }",
      last + 1
    ),
    { last, #'print("😀é", sum)' },
    "the end of the buffer"
  )
  H.eq(
    H.lua("return { require('pairline.nextedit').to_bytes(0, { line = ..., character = 1 }, 'utf-16') }", last + 1),
    {},
    "past the end of the buffer is refused"
  )
  H.input("<Esc>")

  -- A normal-mode <Tab> of the user's own is left alone; pairline.next_edit() still works.
  H.lua("vim.keymap.set('n', '<Tab>', '<Cmd>let g:user_tab = 1<CR>')")
  show_again("off screen, with a user mapping", {
    { text = "s", range = { start = { line = last, character = 13 }, ["end"] = { line = last, character = 16 } } },
  })
  H.eq(marks()[1].virt_text, ("  ↓ next edit at line %d"):format(last + 1), "the hint names no key of the user's")
  H.input("<Esc>")
  H.wait("<Esc> dismisses", function()
    return #marks() == 0
  end)
  show_again("with a user mapping")
  H.check(not H.lua("return _G.buffer_map('<Tab>')"), "no buffer mapping over the user's <Tab>")
  H.input("<Tab>")
  H.wait("the user's <Tab>", function()
    return H.lua("return vim.g.user_tab") == 1
  end)
  H.eq(#marks(), 2, "the user's key does not touch the edit")
  H.eq(H.lua("return require('pairline').next_edit()"), true, "the API jumps")
  H.eq(H.call("where").cursor, { 3, 2 }, "at the edit")
  H.eq(H.lua("return require('pairline').next_edit()"), true, "the API applies")
  H.eq(H.call("where").line, "  sum = total + v", "applied through the API")
  H.eq(H.lua("return require('pairline').next_edit()"), false, "nothing left to apply")

  -- :Pairline nextedit off: no more requests.
  H.lua("vim.cmd('Pairline nextedit off')")
  normal()
  H.lua("vim.wait(100)")
  n = requests()
  H.input("x")
  H.lua("vim.wait(100)")
  H.eq(requests(), n, "no request while off")
  H.lua("vim.cmd('Pairline nextedit on')")
  H.eq(H.lua("return require('pairline.nextedit').is_enabled()"), true, "on again")
end)
