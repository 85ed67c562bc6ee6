--- How much of a suggestion a partial accept takes.
local M = {}

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
