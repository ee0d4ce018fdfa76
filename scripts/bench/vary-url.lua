-- wrk: a different page URL on every request (nothing can be answered from a per-URL cache).
local tag, n = "0", 0
function init(args) tag = args[1] or tag end
function request()
  n = n + 1
  return wrk.format("GET", "/api/jssdk/config?url=https%3A%2F%2Fh5.example.com%2Fpage%3Fx%3D" .. tag .. "-" .. n)
end
