-- A preset the settings name but the hub cache lacks: the server asks with
-- window/showMessageRequest, which Neovim puts to the user through vim.ui.select; picking
-- "Download (size)" downloads it with progress, then the model loads.
package.path = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/?.lua;" .. package.path
local H = require("helpers")

local PRESET = "qwen2.5-coder-0.5b"

H.run(function()
  H.start({ settings = { model = { name = PRESET } } })
  -- The user, as vim.ui.select asks: the question is recorded, "Download" picked.
  H.lua([[
    _G.asked = {}
    vim.ui.select = function(items, opts, on_choice)
      local titles = vim.tbl_map(opts.format_item or function(i) return i.title end, items)
      table.insert(_G.asked, { prompt = opts.prompt, titles = titles })
      for _, item in ipairs(items) do
        if vim.startswith(item.title, "Download") then
          return on_choice(item)
        end
      end
      on_choice(nil)
    end
  ]])
  local bufnr = H.open_sample() -- waits for the ready status; a server error fails the spec

  local asked = H.lua("return _G.asked")
  H.eq(#asked, 1, "asked once")
  H.check(asked[1].prompt:find(PRESET, 1, true), "the question names the model: " .. asked[1].prompt)
  H.eq(asked[1].titles, { "Download (530 MB)", "Not now" }, "the choices")
  H.eq(H.lua("return require('pairline').status(...)", bufnr).model, PRESET, "the preset loaded")
  local messages = vim.tbl_map(function(n)
    return n.msg
  end, H.lua("return _G.notifications"))
  H.check(
    vim.tbl_contains(messages, "pairline: downloading " .. PRESET),
    "the download's progress was shown: " .. vim.inspect(messages)
  )
end)
