-- Next edits from the real server: rename a variable on one line, and the next occurrence is
-- proposed, drawn struck through with the new name; <Tab> jumps, <Tab> applies, and the one
-- after is proposed. Add an argument to a call, and the next call gets it. Neovim 0.11 and 0.12.
package.path = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/?.lua;" .. package.path
local H = require("helpers")

H.run(function()
  H.start()
  local bufnr = H.open_fixture("next_edit.py")
  H.check(
    H.lua("return vim.lsp.get_clients({ bufnr = 0, name = 'pairline' })[1].server_capabilities.experimental").pairline.nextEdit,
    "the server advertises next edits"
  )
  local function next_edit(what, row)
    return H.wait(what, function()
      local e = H.lua("return require('pairline').get_next_edit()")
      return e and (row == nil or e.row == row) and e
    end)
  end
  local function line(n)
    return H.lua("return vim.api.nvim_buf_get_lines(0, ... - 1, ..., true)[1]", n)
  end

  -- Rename `total` on line 5; the nearest other `total` (line 7) is proposed.
  H.lua("vim.api.nvim_win_set_cursor(0, { 5, 4 })")
  H.input("ciwacc<Esc>")
  local e = next_edit("the next occurrence proposed")
  H.eq({ e.row, e.col, e.end_row, e.end_col, e.old, e.text }, { 6, 8, 6, 13, "total", "acc" }, "the edit")
  local marks = H.lua([[
    local ns = require("pairline.nextedit").ns
    return vim.tbl_map(function(m)
      return { m[2], m[3], m[4].hl_group or m[4].virt_text[1][1] }
    end, vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true }))
  ]])
  H.eq(marks, { { 6, 8, "PairlineNextEditDelete" }, { 6, 13, "acc" } }, "drawn in place")
  H.eq(line(7), "        total += v", "the buffer untouched until applied")
  -- <Esc> came within the built-in inline completion's 200 ms pause: its late answer is not drawn.
  H.eq(H.lua("return require('pairline.inline').get(0)"), nil, "no ghost text in normal mode")

  H.input("<Tab>")
  H.wait("the jump", function()
    return vim.deep_equal(H.call("where").cursor, { 7, 8 })
  end)
  H.input("<Tab>")
  H.wait("the edit applied", function()
    return line(7) == "        acc += v"
  end)
  -- Shown and applied, told to the server (didShowInlineEdit, the edit's command).
  local function accepted(n, what)
    H.wait(what, function()
      local stats = H.call("server_stats", bufnr)
      return stats.nextedit_accepted == n and stats.nextedit_shown >= n
    end)
  end
  accepted(1, "the server told of the shown and applied edit")
  -- The one after: line 8.
  e = next_edit("the occurrence after", 7)
  H.eq({ e.old, e.text }, { "total", "acc" }, "the next edit")
  H.input("<Tab><Tab>")
  H.wait("the second edit applied", function()
    return line(8) == "    return acc / len(values)"
  end)
  H.eq(H.call("server_text", bufnr), H.call("buffer_text", bufnr), "server and buffer agree")

  -- An argument added to one call is proposed for the next call: an insertion, drawn inline.
  H.input("<Esc>")
  H.lua("vim.api.nvim_win_set_cursor(0, { 15, 15 })")
  H.input("i, 1<Esc>")
  e = next_edit("the next call proposed", 15)
  H.eq({ e.col, e.end_col, e.old, e.text }, { 15, 15, "", ", 1" }, "the argument to insert")
  H.input("<Tab><Tab>")
  H.wait("the argument added", function()
    return line(16) == "print(area(4, 5, 1))"
  end)
  accepted(3, "three edits applied")
  H.eq(H.call("server_text", bufnr), H.call("buffer_text", bufnr), "server and buffer agree at the end")
  for _, m in ipairs(H.lua("return _G.notifications")) do
    H.check(m.level ~= vim.log.levels.ERROR, "no error: " .. m.msg)
  end
end)
