-- make bench: the wrk script that uploads one body per request, the same
-- for every server. The environment says what to send:
--   BENCH_MODE   tus (POST creation-with-upload) or put (WebDAV PUT)
--   BENCH_SIZE   body size in bytes
--   BENCH_PATH   request path (for put, each wrk thread gets its own file)
--   BENCH_TOKEN  bearer token, if any
--   BENCH_OK     the status that counts as a stored upload (201 or 201/204)
--   BENCH_BODIES identical (the default: every request the same bytes) or
--                unique (the first 16 bytes are the thread and a counter,
--                so no two bodies share a hash and nothing deduplicates)
-- The body is built once per thread from a fixed pseudo-random 1 MiB block,
-- so it neither compresses nor costs the load generator per request (a
-- unique body costs one concatenation per request, the same for every
-- server).
-- done() prints one "RESULT key=value ..." line that tests/bench/run.sh
-- reads.

local threads = {}
local counter = 0
local unique = os.getenv("BENCH_BODIES") == "unique"
local head, rest, sent = nil, nil, 0

function setup(thread)
	counter = counter + 1
	thread:set("id", counter)
	table.insert(threads, thread)
end

local function block(n)
	local t = {}
	local x = 12345
	for i = 1, n do
		-- Park-Miller: deterministic, so every run sends the same
		-- bytes, and exact in a double
		x = (x * 16807) % 2147483647
		t[i] = string.char(math.floor(x / 128) % 256)
	end
	return table.concat(t)
end

function init(args)
	local size = tonumber(os.getenv("BENCH_SIZE"))
	local mode = os.getenv("BENCH_MODE")
	local path = os.getenv("BENCH_PATH")
	local token = os.getenv("BENCH_TOKEN") or ""
	local mib = 1048576
	local b = block(math.min(size, mib))
	local body = string.rep(b, math.floor(size / mib)) ..
	    string.sub(b, 1, size % mib)
	if size < mib then body = b end

	ok = {}
	for s in string.gmatch(os.getenv("BENCH_OK") or "201", "%d+") do
		ok[tonumber(s)] = true
	end
	nok = 0
	nbad = 0
	badstatus = 0

	wrk.body = body
	if token ~= "" then
		wrk.headers["Authorization"] = "Bearer " .. token
	end
	if mode == "tus" then
		wrk.method = "POST"
		wrk.path = path
		wrk.headers["Tus-Resumable"] = "1.0.0"
		wrk.headers["Upload-Length"] = tostring(size)
		wrk.headers["Content-Type"] = "application/offset+octet-stream"
		-- filename bench.bin, kind story, title bench
		wrk.headers["Upload-Metadata"] =
		    "filename YmVuY2guYmlu,kind c3Rvcnk=,title YmVuY2g="
	else
		wrk.method = "PUT"
		wrk.path = path .. "-" .. id
		wrk.headers["Content-Type"] = "application/octet-stream"
	end
	if unique then
		-- wrk.format puts the body last: what comes before it is the
		-- request head, the same for every request of this thread.
		local whole = wrk.format()
		head = string.sub(whole, 1, #whole - #body)
		rest = string.sub(body, 17)
	end
end

-- Only for unique bodies: without a request function wrk sends one
-- prepared request over and over, at no cost per request.
if unique then
	function request()
		sent = sent + 1
		return head .. string.format("%08x%08x", id, sent) .. rest
	end
end

function response(status, headers, body)
	if ok[status] then
		nok = nok + 1
	else
		nbad = nbad + 1
		badstatus = status
	end
end

function done(summary, latency, requests)
	local good, bad, last = 0, 0, 0
	for _, t in ipairs(threads) do
		good = good + t:get("nok")
		bad = bad + t:get("nbad")
		local s = t:get("badstatus")
		if s ~= 0 then last = s end
	end
	local e = summary.errors
	io.write(string.format("RESULT ok=%d bad=%d badstatus=%d responses=%d " ..
	    "duration_us=%d p50_us=%d p99_us=%d max_us=%d connect=%d read=%d " ..
	    "write=%d timeout=%d\n",
	    good, bad, last, summary.requests, summary.duration,
	    latency:percentile(50), latency:percentile(99), latency.max,
	    e.connect, e.read, e.write, e.timeout))
end
