--- A suggestion's text: its plain form, and how much of it a partial accept takes.
local M = {}

--- Read snippet `s` from `i` up to an unescaped character of `stops`, as the text reads once
--- expanded with its defaults: placeholders keep their text, a choice its first value, tabstops
--- and variables (with their defaults, as Neovim shows them) drop out, escapes are undone.
---@param s string
---@param i integer
---@param stops? string
---@return string text, integer index of the stop character (past the end when none)
local function expand(s, i, stops)
  local out = {}
  while i <= #s do
    local c = s:sub(i, i)
    if stops and stops:find(c, 1, true) then
      break
    elseif c == "\\" and i < #s then
      out[#out + 1] = s:sub(i + 1, i + 1)
      i = i + 2
    elseif c == "$" and s:find("^[%w_]", i + 1) then
      i = s:find("[^%w_]", i + 1) or #s + 1 -- $1, $VAR
    elseif c == "$" and s:sub(i + 1, i + 1) == "{" then
      local tabstop = s:find("^%d", i + 2) ~= nil
      local sep, body = s:match("^[%w_]*([:|]?)()", i + 2)
      local text
      text, i = expand(s, body, sep == "|" and ",|" or "}")
      if sep == "|" then
        i = s:find("|}", i, true) or #s
      end
      out[#out + 1] = tabstop and text or ""
      i = i + (sep == "|" and 2 or 1)
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
  return table.concat(out), i
end

--- The plain text of an item's insert text: a string as it is, a snippet expanded.
---@param insert_text string|lsp.StringValue
---@return string
function M.plain(insert_text)
  if type(insert_text) == "string" then
    return insert_text
  end
  return (expand(insert_text.value, 1))
end

--- The first piece of `text`: a word (with the whitespace before it), a line, or all of it.
---@param text string
---@param kind "all"|"word"|"line"
---@return string
function M.first(text, kind)
  if kind == "word" then
    return text:match("^%s*[%w_]+") or text:match("^%s*[^%w_%s]+") or text:match("^%s+") or text
  elseif kind == "line" then
    -- A suggestion that starts with a line break takes that break and the line after it.
    local nl = text:find("\n", 2, true)
    return nl and text:sub(1, nl - 1) or text
  end
  return text
end

return M
