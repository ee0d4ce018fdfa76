-- wrk: cycles over a file of pre-signed pushes (scripts/bench/make-pushes.js),
-- one "path<TAB>body" per line. Usage: wrk … -s pushes.lua URL -- FILE
local requests = {}
local next_one = 0

function init(args)
  for line in io.lines(args[1]) do
    local path, body = line:match("^([^\t]*)\t(.*)$")
    requests[#requests + 1] = wrk.format("POST", path, { ["Content-Type"] = "text/xml" }, body)
  end
  assert(#requests > 0, "no pushes in " .. args[1])
end

function request()
  next_one = next_one % #requests + 1
  return requests[next_one]
end
