-- wrk script: every request asks for /train?history=0 on a seed not asked before, so that no
-- answer can come from gdlab's response cache. Shows what computing each answer costs.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
    thread:set("thread_id", #threads)
    table.insert(threads, thread)
end

function init(args)
    counter = thread_id * 1000000000
end

function request()
    counter = counter + 1
    return wrk.format("GET", "/train?history=0&seed=" .. counter)
end
