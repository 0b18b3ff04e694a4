-- wrk script for the soak test: every endpoint, by GET and by POST, in a fixed rotation (each
-- connection starts at a different place), counting answers by class per thread.
local requests = {
   {"GET", "/health"},
   {"GET", "/"},
   {"GET", "/dataset"},
   {"GET", "/dataset?n=1000&scaler=standard&x_multiplier=10"},
   {"GET", "/surface"},
   {"GET", "/surface?b_steps=51&w_steps=51&split=val"},
   {"GET", "/cross-section"},
   {"GET", "/cross-section?b=0.49&w=-0.13&snap=false"},
   {"GET", "/train"},
   {"GET", "/train?lr=0.2,0.8,1.1&epochs=10000&history=101"},
   {"GET", "/scale?x_multiplier=10"},
   {"POST", "/dataset", '{"n": 200, "seed": 7, "scaler": "minmax"}'},
   {"POST", "/surface", '{"b_steps": 41, "w_steps": 61}'},
   {"POST", "/cross-section", '{"b": 0.49, "w": -0.13, "delta": 0.2}'},
   {"POST", "/train", '{"lr": [0.2, 0.8, 1.1], "epochs": 2000, "history": 21}'},
   {"POST", "/scale", '{"x": [1, 2, 3, 4, 5, 6], "y": [2.9, 5.1, 7.0, 9.2, 10.8, 13.1], "x_multiplier": 10}'},
   {"GET", "/nope"},  -- a 404 now and then: error answers must not leak either
}
local built = {}
for i, r in ipairs(requests) do
   local headers = {["Host"] = "127.0.0.1"}
   if r[3] then headers["Content-Type"] = "application/json" end
   built[i] = wrk.format(r[1], r[2], headers, r[3])
end

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

function init(args)
   n = id * 7
   s2xx, s4xx, s5xx, other = 0, 0, 0, 0
end

function request()
   n = n + 1
   return built[(n % #built) + 1]
end

function response(status, headers, body)
   if status >= 200 and status < 300 then s2xx = s2xx + 1
   elseif status == 404 then s4xx = s4xx + 1
   elseif status >= 500 then s5xx = s5xx + 1
   else other = other + 1 end
end

function done(summary, latency, requests)
   local t2, t4, t5, to = 0, 0, 0, 0
   for _, thread in ipairs(threads) do
      t2 = t2 + thread:get("s2xx")
      t4 = t4 + thread:get("s4xx")
      t5 = t5 + thread:get("s5xx")
      to = to + thread:get("other")
   end
   local e = summary.errors
   io.write(string.format("soak: 2xx %d, 404 %d, 5xx %d, other %d\n", t2, t4, t5, to))
   io.write(string.format("soak: socket errors connect %d, read %d, write %d, timeout %d, status %d\n",
                          e.connect, e.read, e.write, e.timeout, e.status))
   io.write(string.format("soak: latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                          latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                          latency.max / 1000))
end
