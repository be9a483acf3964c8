-- tests/soak/soak.lua: the soak's mixed load, for wrk (tests/soak/soak.js
-- runs it). Each request is one of the operations below, picked at random
-- by weight, over every route the backend serves:
--
--   register (a name no other request uses, with user_data), register a
--   device, create a group (with group_data), its light check (a member's
--   and a stranger's), delete a group this thread created, the user's own
--   data (GET, PUT), a group's own data (GET, PUT), items (PUT, GET, the
--   list, DELETE), delete an account, the cookie routes (session,
--   refresh, logout), the admin routes (disable_otp, sessions, delete by
--   identifier and by id of users this thread registered, a group
--   member), health.
--
-- SOAK_DATA names the file soak.js wrote before the load, one record a
-- line, fields split by tabs:
--   K token          the admin token          O origin    N cookie name
--   P prefix         for names made here      T wrk's threads (before V)
--   U user_id identifier jwt refresh_token cookie group_id
--                    users made before the load, each with a group
--   V jwt            accounts to delete (fresh JWTs), used once each
--   A identifier     users the admin routes end sessions of
-- Each thread takes its share of V; users whose register or group create
-- this thread saw succeed are the ones its admin and group deletes use.

local weights = {
  { "health", 3 }, { "register", 8 }, { "register_device", 3 },
  { "group_create", 5 }, { "light", 9 }, { "light_stranger", 2 },
  { "group_delete", 3 }, { "me_get", 7 }, { "me_put", 4 },
  { "gdata_get", 6 }, { "gdata_put", 3 }, { "item_put", 6 },
  { "item_get", 5 }, { "item_list", 3 }, { "item_delete", 2 },
  { "account_delete", 2 }, { "session", 3 }, { "refresh", 6 },
  { "logout", 2 }, { "admin_otp", 1 }, { "admin_sessions", 1 },
  { "admin_delete", 2 }, { "admin_delete_id", 2 }, { "admin_member", 3 },
}

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

local function split(line)
  local f = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    f[#f + 1] = field
  end
  return f
end

function init(args)
  users, victims, targets = {}, {}, {}
  local vi = 0
  for line in io.lines(os.getenv("SOAK_DATA")) do
    local f = split(line)
    if f[1] == "K" then admin = "Bearer " .. f[2]
    elseif f[1] == "O" then origin = f[2]
    elseif f[1] == "N" then cookie_name = f[2]
    elseif f[1] == "P" then prefix = f[2]
    elseif f[1] == "T" then nthreads = tonumber(f[2])
    elseif f[1] == "R" then register_head = f[2]
    elseif f[1] == "U" then
      users[#users + 1] = { id = f[2], ident = f[3], auth = "Bearer " .. f[4],
        rt = f[5], cookie = f[6], gid = f[7] }
    elseif f[1] == "V" then
      vi = vi + 1
      if vi % nthreads == tid - 1 then victims[#victims + 1] = "Bearer " .. f[2] end
    elseif f[1] == "A" then targets[#targets + 1] = f[2]
    end
  end
  math.randomseed(tid * 7919 + os.time())
  total = 0
  for _, w in ipairs(weights) do total = total + w[2] end
  -- This thread's creator of groups: a user of its own.
  creator = users[(tid - 1) % #users + 1]
  made_groups, made_users, items = {}, {}, {}
  seq, next_victim = 0, 1
  json = { ["Content-Type"] = "application/json" }
end

local function uuid()
  return string.format("%08x-%04x-4%03x-%04x-%04x%08x",
    math.random(0, 0x7fffffff), math.random(0, 0xffff),
    math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff),
    math.random(0, 0xffff), math.random(0, 0x7fffffff))
end

local function pick(t) return t[math.random(#t)] end

local function req(method, path, auth, body, extra)
  local h = { ["User-Agent"] = "soak-wrk" }
  if auth then h["Authorization"] = auth end
  if body then h["Content-Type"] = "application/json" end
  if extra then for k, v in pairs(extra) do h[k] = v end end
  return wrk.format(method, path, h, body)
end

local function name()
  seq = seq + 1
  return string.format("%s-%d-%d", prefix, tid, seq)
end

local ops = {}

function ops.health() return req("GET", "/backend/health") end

function ops.register()
  local head = register_head:gsub("@NAME@", name())
  return req("POST", "/api/v1/register", nil, head .. string.format(
    ',"user_data":{"display_name":"soak","n":%d}}', seq))
end

function ops.register_device()
  return req("POST", "/api/v1/user/prepare_register_device", nil,
    string.format('{"device_identifier":"%s-device"}', name()))
end

function ops.group_create()
  return req("POST", "/api/v1/group", creator.auth, string.format(
    '{"keys":"opaque","group_data":{"title":"soak %d"}}', seq))
end

function ops.light()
  local u = pick(users)
  return req("GET", "/api/v1/group/" .. u.gid .. "/light", u.auth)
end

function ops.light_stranger()
  local u, v = pick(users), pick(users)
  if u == v then return ops.light() end
  return req("GET", "/api/v1/group/" .. v.gid .. "/light", u.auth)
end

function ops.group_delete()
  if #made_groups == 0 then return ops.light() end
  return req("DELETE", "/api/v1/group/" .. table.remove(made_groups, 1),
    creator.auth)
end

function ops.me_get() return req("GET", "/backend/me", pick(users).auth) end

function ops.me_put()
  return req("PUT", "/backend/me", pick(users).auth, string.format(
    '{"display_name":"soak","seen":%d}', math.random(0, 1000000)))
end

function ops.gdata_get()
  local u = pick(users)
  return req("GET", "/backend/groups/" .. u.gid .. "/data", u.auth)
end

function ops.gdata_put()
  local u = pick(users)
  return req("PUT", "/backend/groups/" .. u.gid .. "/data", u.auth,
    string.format('{"title":"soak","rev":%d}', math.random(0, 1000000)))
end

function ops.item_put()
  local u = pick(users)
  local id = uuid()
  items[#items + 1] = { u = u, id = id }
  if #items > 1000 then table.remove(items, 1) end
  return req("PUT", "/backend/groups/" .. u.gid .. "/items/" .. id, u.auth,
    string.format('{"data":"c2VhbGVk%08x"}', math.random(0, 0x7fffffff)))
end

function ops.item_get()
  if #items == 0 then return ops.item_put() end
  local it = pick(items)
  return req("GET", "/backend/groups/" .. it.u.gid .. "/items/" .. it.id,
    it.u.auth)
end

function ops.item_list()
  local u = pick(users)
  return req("GET", "/backend/groups/" .. u.gid .. "/items?limit=20", u.auth)
end

function ops.item_delete()
  if #items == 0 then return ops.item_put() end
  local it = table.remove(items, math.random(#items))
  return req("DELETE", "/backend/groups/" .. it.u.gid .. "/items/" .. it.id,
    it.u.auth)
end

function ops.account_delete()
  if next_victim > #victims then return ops.me_get() end
  next_victim = next_victim + 1
  return req("DELETE", "/api/v1/user", victims[next_victim - 1])
end

function ops.session()
  local u = pick(users)
  return req("POST", "/backend/session", u.auth,
    string.format('{"refresh_token":"%s"}', u.rt), { Origin = origin })
end

function ops.refresh()
  local u = pick(users)
  return req("GET", "/backend/refresh", u.auth, nil,
    { Origin = origin, Cookie = "other=1; " .. cookie_name .. "=" .. u.cookie })
end

function ops.logout()
  local u = pick(users)
  return req("POST", "/backend/logout", nil, nil,
    { Origin = origin, Cookie = cookie_name .. "=" .. u.cookie })
end

function ops.admin_otp()
  return req("PUT", "/api/v1/user/forced/disable_otp", admin,
    string.format('{"user_identifier":"%s"}', pick(users).ident))
end

function ops.admin_sessions()
  return req("DELETE", "/api/v1/user/forced/sessions", admin,
    string.format('{"user_identifier":"%s"}', pick(targets)))
end

function ops.admin_delete()
  if #made_users == 0 then return ops.admin_member() end
  return req("PUT", "/api/v1/user/forced/delete", admin, string.format(
    '{"user_identifier":"%s"}', table.remove(made_users, 1).ident))
end

function ops.admin_delete_id()
  if #made_users == 0 then return ops.admin_member() end
  return req("DELETE", "/api/v1/user/forced/delete/" ..
    table.remove(made_users, 1).id, admin)
end

function ops.admin_member()
  -- Half of them ask about the group's creator, half about a stranger.
  local u = pick(users)
  local v = math.random(2) == 1 and u or pick(users)
  return req("GET", "/api/v1/group/forced/" .. u.gid .. "/user/" .. v.id, admin)
end

function request()
  local r, acc = math.random(total), 0
  for _, w in ipairs(weights) do
    acc = acc + w[2]
    if r <= acc then return ops[w[1]]() end
  end
end

-- What this thread learns from the answers: the users its registers made
-- and the groups its creator made, for the deletes.
function response(status, headers, body)
  if status ~= 200 then return end
  local id, ident = body:match('^{"status":true,"result":{"user_id":"([%x-]+)",' ..
    '"device_id":"[%x-]+","device_identifier":"([^"]+)"}}$')
  if id then
    made_users[#made_users + 1] = { id = id, ident = ident }
    if #made_users > 5000 then table.remove(made_users, 1) end
    return
  end
  local gid = body:match('^{"status":true,"result":{"group_id":"([%x-]+)"}}$')
  if gid then
    made_groups[#made_groups + 1] = gid
    if #made_groups > 5000 then table.remove(made_groups, 1) end
  end
end
