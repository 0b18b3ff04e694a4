-- wrk script: every request asks for a path on a seed not asked before, so that no answer can
-- come from gdlab's response cache. Shows what computing each answer costs.
--     wrk -s distinct_seeds.lua URL -- [PREFIX]    (PREFIX default "/train?history=0&")
local counter = 0
local thread_id = 0
local threads = {}
local prefix = "/train?history=0&"

function setup(thread)
    thread:set("thread_id", #threads)
    table.insert(threads, thread)
end

function init(args)
    counter = thread_id * 1000000000
    if args[1] then
        prefix = args[1]
    end
end

function request()
    counter = counter + 1
    return wrk.format("GET", prefix .. "seed=" .. counter)
end
