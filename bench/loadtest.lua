-- wrk script for bench/loadtest: a class of learners using the tutorial page, and API users.
-- wrk runs one connection per thread (-t N -c N), each connection one user, so that a request
-- and its response pair up and each is timed (LuaJIT's ffi: clock_gettime) per endpoint.
--
-- A learner opens the page (bench/page-requests.txt: the page's own requests, in its order, with
-- the learner's seed), reads, then drags the learning-rate slider: each step of a drag is what
-- the page asks when the slider settles on a new value (web/app.js, only = 'lr'): a one-epoch
-- /train and a 1000-epoch /train with history, the lr moving by 0.01 to 0.05 per step within the
-- slider's 0.01..2. Then it reads again and drags again. An API user calls every endpoint in
-- turn, GET and POST, a new seed each time, with a pause between calls.
--
-- Arguments (after --): learners api_users think_ms drag_steps step_ms api_think_ms seed_base
-- same_seed page_file. done() prints one LOADTEST line of JSON per endpoint, one for all of them
-- ("all") and one summary.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } gdlab_timespec;
int clock_gettime(int clk_id, gdlab_timespec *tp);
]]
local ts = ffi.new("gdlab_timespec")
local function now_us()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local threads = {}
local counter = 0

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

-- per-thread state
local role, seed, lr, queue, pos, current, started
-- Globals, which done() reads with thread:get: flat tables only (wrk cannot copy nested ones).
-- hist["label\tbucket"] = responses in that latency bucket.
hist, counts, errors, bytes = {}, {}, {}, {}
local cfg = {}
local json_h = { ["Accept"] = "application/json", ["Accept-Encoding"] = "gzip, deflate, br" }
local html_h = { ["Accept"] = "text/html,application/xhtml+xml", ["Accept-Encoding"] = "gzip, deflate, br" }
local static_h = { ["Accept"] = "*/*", ["Accept-Encoding"] = "gzip, deflate, br" }

-- A number as JavaScript's String() writes a slider value: 0.1, 0.35, 1.
local function jsnum(x)
    local s = string.format("%.2f", x)
    s = s:gsub("0+$", ""):gsub("%.$", "")
    return s
end

local function endpoint(path)
    if path == "/" then return "/ (page)" end
    if path:sub(1, 8) == "/static/" then return "/static/*" end
    return path:match("^[^?]*")
end

local page = {}

local function push(method, path, headers, body, pause)
    table.insert(queue, { method = method, path = path, headers = headers, body = body,
        pause = pause or 0, label = endpoint(path) })
end

local function plan_learner(first)
    queue, pos = {}, 1
    if first then
        for i, p in ipairs(page) do
            local path = p:gsub("{seed}", tostring(seed))
            local h = path == "/" and html_h or (path:sub(1, 8) == "/static/" and static_h or json_h)
            -- the class does not open the page at one instant: spread over the first think time
            push("GET", path, h, nil, i == 1 and math.random(0, cfg.think_ms) or 0)
        end
    end
    local data = "seed=" .. seed .. "&n=100&noise=0.1"
    for step = 1, cfg.drag_steps do
        local d = (math.random(1, 5) / 100) * (math.random() < 0.5 and -1 or 1)
        if lr + d < 0.01 or lr + d > 2 then d = -d end
        lr = math.floor((lr + d) * 100 + 0.5) / 100
        local v = jsnum(lr)
        local pause = step == 1 and math.random(math.floor(cfg.think_ms / 2), math.floor(cfg.think_ms * 3 / 2)) or cfg.step_ms
        push("GET", "/train?" .. data .. "&lr=" .. v .. "&epochs=1&history=2", json_h, nil, pause)
        push("GET", "/train?" .. data .. "&lr=" .. v .. "&epochs=1000&history=1001", json_h, nil, 0)
    end
end

local function plan_api()
    queue, pos = {}, 1
    seed = seed + 1
    local s = tostring(seed)
    local p = function() return math.random(math.floor(cfg.api_think_ms / 2), math.floor(cfg.api_think_ms * 3 / 2)) end
    local post_h = { ["Accept"] = "application/json", ["Content-Type"] = "application/json" }
    push("GET", "/dataset?seed=" .. s .. "&n=200&scaler=standard", json_h, nil, p())
    push("GET", "/surface?seed=" .. s .. "&b_steps=51&w_steps=51", json_h, nil, p())
    push("GET", "/cross-section?seed=" .. s .. "&b=0.5&w=-0.2", json_h, nil, p())
    push("GET", "/train?seed=" .. s .. "&lr=0.2,0.8,1.1&history=0", json_h, nil, p())
    push("GET", "/scale?seed=" .. s .. "&x_multiplier=10&scaler=minmax", json_h, nil, p())
    push("POST", "/train", post_h, '{"seed":' .. s .. ',"lr":[0.05,0.5],"epochs":500,"history":101}', p())
    push("POST", "/surface", post_h, '{"seed":' .. s .. ',"n":50,"b_steps":31,"w_steps":31,"x_multiplier":10}', p())
    push("GET", "/health", json_h, nil, p())
end

local function advance()
    if pos > #queue then
        if role == "learner" then plan_learner(false) else plan_api() end
    end
    local item = queue[pos]
    pos = pos + 1
    return item
end

function init(args)
    cfg.learners = tonumber(args[1])
    cfg.api_users = tonumber(args[2])
    cfg.think_ms = tonumber(args[3])
    cfg.drag_steps = tonumber(args[4])
    cfg.step_ms = tonumber(args[5])
    cfg.api_think_ms = tonumber(args[6])
    local seed_base, same_seed = tonumber(args[7]), args[8] == "1"
    for line in io.lines(args[9]) do
        if line:sub(1, 1) == "/" then table.insert(page, line) end
    end
    math.randomseed(1000 + id)
    if id < cfg.learners then
        role = "learner"
        seed = same_seed and 42 or seed_base + id
        lr = 0.1
        plan_learner(true)
    else
        role = "api"
        seed = seed_base + 1000000 * (1 + id)
        plan_api()
    end
end

local pending

function delay()
    pending = advance()
    return pending.pause
end

function request()
    current = pending or advance()
    pending = nil
    started = now_us()
    return wrk.format(current.method, current.path, current.headers, current.body)
end

function response(status, headers, body)
    local us = now_us() - started
    local label = current.label
    local key = label .. "\t" .. math.floor(math.log(math.max(us, 1)) * 50) -- buckets 2 % wide
    if not counts[label] then
        counts[label], errors[label], bytes[label] = 0, 0, 0
    end
    hist[key] = (hist[key] or 0) + 1
    counts[label] = counts[label] + 1
    bytes[label] = bytes[label] + #body
    if status < 200 or status >= 400 then errors[label] = errors[label] + 1 end
end

local function quote(s) return '"' .. s:gsub('"', '\\"') .. '"' end

function done(summary, latency, requests)
    local merged, cnt, err, byt = {}, {}, {}, {}
    for _, t in ipairs(threads) do
        local h, c, e, by = t:get("hist"), t:get("counts"), t:get("errors"), t:get("bytes")
        for key, n in pairs(h or {}) do
            local label, bucket = key:match("^(.*)\t(-?%d+)$")
            bucket = tonumber(bucket)
            for _, l in ipairs({ label, "all" }) do
                merged[l] = merged[l] or {}
                merged[l][bucket] = (merged[l][bucket] or 0) + n
            end
        end
        for label, n in pairs(c or {}) do
            for _, l in ipairs({ label, "all" }) do
                cnt[l] = (cnt[l] or 0) + n
                err[l] = (err[l] or 0) + e[label]
                byt[l] = (byt[l] or 0) + by[label]
            end
        end
    end
    for label, buckets in pairs(merged) do
        local keys = {}
        for bucket in pairs(buckets) do table.insert(keys, bucket) end
        table.sort(keys)
        local function pct(q)
            local want, seen = q * cnt[label], 0
            for _, k in ipairs(keys) do
                seen = seen + buckets[k]
                if seen >= want then return math.exp((k + 1) / 50) end -- the bucket's upper edge
            end
            return math.exp((keys[#keys] + 1) / 50)
        end
        io.write(string.format('LOADTEST {"endpoint":%s,"requests":%d,"errors":%d,"bytes":%d,' ..
            '"p50_us":%.0f,"p99_us":%.0f,"p999_us":%.0f}\n', quote(label), cnt[label], err[label],
            byt[label], pct(0.5), pct(0.99), pct(0.999)))
    end
    local e = summary.errors
    io.write(string.format('LOADTEST {"summary":true,"duration_us":%d,"requests":%d,"bytes":%d,' ..
        '"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}\n', summary.duration,
        summary.requests, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status))
end
