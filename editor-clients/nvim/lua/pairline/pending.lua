--- Pending work of one buffer's feature: a debounce timer and an LSP request in flight.
local M = {}

--- Stop the timer and cancel the request of `s`, as typing or a newer request makes them stale.
---@param s { timer: uv.uv_timer_t?, request: { client: vim.lsp.Client, id: integer }? }
function M.cancel(s)
  if s.timer then
    s.timer:stop()
  end
  if s.request then
    -- Tells the server too, so it stops working for a buffer that has moved on.
    s.request.client:cancel_request(s.request.id)
    s.request = nil
  end
end

return M
