-- :checkhealth pairline with a running server: every check OK, the model ready.
package.path = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/?.lua;" .. package.path
local H = require("helpers")

H.run(function()
  H.start()
  H.open_sample()
  local report = H.lua([[
    vim.cmd("checkhealth pairline")
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.bo[buf].filetype == "checkhealth" then
        return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
      end
    end
  ]])
  H.check(report, "a checkhealth buffer")
  H.check(not report:find("ERROR", 1, true), "no ERROR in the report:\n" .. report)
  H.check(not report:find("WARNING", 1, true), "no WARNING in the report:\n" .. report)
  for _, want in ipairs({
    "OK Neovim",
    "OK server command",
    "OK pairline: ",
    "OK model: ",
    "OK remote: ",
    "model ready",
  }) do
    H.check(report:find(want, 1, true), ("%q in the report:\n%s"):format(want, report))
  end
end)
