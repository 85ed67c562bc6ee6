-- A suggestion's text without a server: snippets as plain text, the pieces a partial accept
-- takes, and the one insert that every accept of pairline's own goes through.
package.path = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/?.lua;" .. package.path
local H = require("helpers")

H.run(function()
  vim.opt.runtimepath:prepend(H.plugin_root)
  local pieces = require("pairline.pieces")
  local insert = require("pairline.insert")

  H.eq(pieces.plain("x = $1"), "x = $1", "a string is taken as it is")
  for _, case in ipairs({
    { "foo(${1:x}, ${2:y})$0", "foo(x, y)" },
    { "a ${1:b ${2:c}} d", "a b c d" },
    { "${1|one,two|} end", "one end" },
    { "${1|a\\,b,c|}", "a,b" },
    { "x\\$y \\} \\\\", "x$y } \\" },
    { "$TM_FILENAME-${TM_LINE_INDEX:9}.", "-." },
    { "${1}z", "z" },
    { "cost $ 5$", "cost $ 5$" },
  }) do
    H.eq(pieces.plain({ kind = "snippet", value = case[1] }), case[2], "snippet " .. case[1])
  end

  H.eq(pieces.first("  foo.bar()", "word"), "  foo", "a word with the space before it")
  H.eq(pieces.first("(x)\ny", "line"), "(x)", "the rest of the line")
  H.eq(pieces.first("\n  y\nz", "line"), "\n  y", "a leading break and the line after it")

  local buf = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_set_current_buf(buf)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "hello world" })
  H.eq({ insert.text(buf, 0, 5, ",\n  there") }, { 1, 7 }, "where the cursor goes")
  H.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, false), { "hello,", "  there world" }, "inserted on two lines")
  H.eq(vim.api.nvim_win_get_cursor(0), { 2, 7 }, "cursor after the insert")
  H.eq({ insert.text(buf, 1, 2, "X", 1, 7) }, { 1, 3 }, "a replaced range")
  H.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, false), { "hello,", "  X world" }, "the range replaced")
  H.eq(vim.api.nvim_win_get_cursor(0), { 2, 3 }, "cursor after the replacement")
end)
