-- Applies one batch of failed sign-ins and host logons to the state a fleet of collectors shares,
-- atomically, and returns the alerts they complete. It is the Redis twin of internal/window's
-- Engine: same decisions (fires), same late rule against one clock for the whole fleet, same bounds.
--
-- Times. Redis' Lua numbers are doubles, exact only up to 2^53, and Unix nanoseconds (~1.8e18) are
-- not. A time is therefore a pair (u, n): whole microseconds since the epoch (exact in a double until
-- the year 2255) and the nanoseconds below them (0 to 999). Sorted-set scores are u; members start
-- with n as three digits, so Redis' order (score, then member) is nanosecond order. Every
-- comparison below is on pairs: decisions are exact to the nanosecond, as in memory.
--
-- Orders. Expiry and the memory bounds take state oldest first, exactly as in memory: (table, IP)
-- pairs by their newest failure's time, then address, then table; waiting logons by time, then arrival; suppress marks by time,
-- then table, address and host. So every sorted set used for them has members that start with the
-- nanoseconds (nnn) after the microsecond score, and then what breaks ties.
--
-- Keys (P is the key prefix; tb the table index; ip the address in 16-byte form as 32 hex digits, so
-- that string order is the address order memory uses; id a logon's arrival number, seq..'.'..index,
-- both zero-padded, so that string order is arrival order):
--   KEYS[1] P..'clock'   "u n": the largest event time the fleet accepted
--   KEYS[2] P..'seq'     counter; makes failure members and logon ids unique across the fleet
--   KEYS[3] P..'ips'     sorted set: tracked (table, IP) pairs by their newest failure; member nnn..ip..ttt
--                        (ttt: the table, three digits)
--   KEYS[4] P..'logons'  sorted set: waiting logons by time; member nnn..id
--   KEYS[5] P..'newest'  hash: ip..'|'..tb -> "u n" of the pair's newest failure (to find its member)
--   KEYS[6] P..'marks'   sorted set: every suppress mark; member nnn..tb..'|'..ip..'|'..u..'|'..host
--   P..'f:'..tb..'|'..ip          sorted set of failure times; member nnn..id
--   P..'w:'..tb..'|'..ip          sorted set of logons waiting for table tb; member nnn..id
--   P..'l:'..id                   a waiting logon (logon_value): done bits, ns, ip, host, member, payload
--   P..'s:'..tb..'|'..ip..'|'..host   sorted set of suppress marks: the logon times of the alerts
--                                     emitted; member nnn..u
-- Every key is also given a TTL (ARGV[10] ms: 2 windows + suppress + skew, at least a minute) after
-- each write: a safety net that bounds memory if the fleet stops; the event-time expiry below is
-- what the rule relies on.
--
-- ARGV: 1 prefix, 2 k (threshold+1), 3 tables, 4-5 window (u n), 6-7 suppress (u n), 8 max IPs,
-- 9 max pending logons, 10 TTL ms, 11 expiry limit per batch, 12 max suppress marks, 13 event count,
-- then 7 per event: kind ('f' failure, 'l' logon), table, ip, u, n, host, encoded payload (host and
-- payload are empty for a failure).
--
-- Reply: { verdicts ('c' current / 'l' late, one per event), alerts (8 per alert: event index or -1,
-- payload or '', table, count, first u, first n, last u, last n), stats, tracked IPs, waiting logons,
-- clock u, clock n }.

local P = ARGV[1]
local K = tonumber(ARGV[2])
local TABLES = tonumber(ARGV[3])
local WU, WN = tonumber(ARGV[4]), tonumber(ARGV[5])
local SU, SN = tonumber(ARGV[6]), tonumber(ARGV[7])
local MAX_IPS = tonumber(ARGV[8])
local MAX_LOGONS = tonumber(ARGV[9])
local TTL = ARGV[10]
local EXPIRE_LIMIT = tonumber(ARGV[11])
local MAX_MARKS = tonumber(ARGV[12])
local N = tonumber(ARGV[13])
local FIRST, STRIDE = 14, 7

local CLOCK, SEQ, IPS, LOGONS, NEWEST, MARKS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local W2U, W2N = WU * 2, WN * 2 -- two windows, normalised below
if W2N >= 1000 then W2U, W2N = W2U + 1, W2N - 1000 end
local ALL = 2 ^ TABLES - 1
local SUPPRESS = SU > 0 or SN > 0

local call = redis.call
local fmt, sub = string.format, string.sub

-- Pairs.

local function int(x) return fmt('%d', x) end

local function norm(u, n)
  if n < 0 then return u - 1, n + 1000 end
  if n >= 1000 then return u + 1, n - 1000 end
  return u, n
end

local function lt(au, an, bu, bn) return au < bu or (au == bu and an < bn) end
local function plus(au, an, bu, bn) return norm(au + bu, an + bn) end
local function minus(au, an, bu, bn) return norm(au - bu, an - bn) end

local function parse(s)
  local u, n = string.match(s, '^(-?%d+) (%d+)$')
  return tonumber(u), tonumber(n)
end

local function pair(u, n) return int(u) .. ' ' .. int(n) end

local function ns3(n) return fmt('%03d', n) end

-- The state of this call.

local clock_u, clock_n = 0, 0
do
  local c = call('GET', CLOCK)
  if c then clock_u, clock_n = parse(c) end
end
local seq = call('INCR', SEQ)
local seq_id = fmt('%016d', seq)
local alerts = {}
local stats = { evicted_ips = 0, evicted_logons = 0, suppressed = 0, expired_ips = 0, expired_logons = 0, compacted = 0,
  evicted_marks = 0 }
local batch_logons = {} -- logon id -> event index, for logons of this batch (their payload is at the client)

local function fkey(tb, ip) return P .. 'f:' .. tb .. '|' .. ip end
local function wkey(tb, ip) return P .. 'w:' .. tb .. '|' .. ip end
local function lkey(id) return P .. 'l:' .. id end

-- A waiting logon is one string (one SET with its TTL): a header "done ns #ip #host #member", then
-- the ip, host and member, then the encoded payload.
local function logon_value(done, tn, ip, host, m, payload)
  return int(done) .. ' ' .. int(tn) .. ' ' .. #ip .. ' ' .. #host .. ' ' .. #m .. '\n' .. ip .. host .. m .. payload
end

-- read_logon returns done, ns, ip, host, member and payload of a logon_value (nil for none).
local function read_logon(v)
  if not v then return nil end
  local d, n, la, lh, lm, at = string.match(v, '^(%d+) (%d+) (%d+) (%d+) (%d+)\n()')
  if not d then return nil end
  la, lh, lm = tonumber(la), tonumber(lh), tonumber(lm)
  local ip = sub(v, at, at + la - 1)
  local host = sub(v, at + la, at + la + lh - 1)
  local m = sub(v, at + la + lh, at + la + lh + lm - 1)
  return tonumber(d), tonumber(n), ip, host, m, sub(v, at + la + lh + lm)
end

-- The sizes of ips, logons and marks, read once per batch when needed and kept up to date.
local sizes = {}
local function size(key)
  if not sizes[key] then sizes[key] = call('ZCARD', key) end
  return sizes[key]
end
local function zadd_counted(key, u, m)
  local n = call('ZADD', key, int(u), m)
  if sizes[key] then sizes[key] = sizes[key] + n end
end
local function zrem_counted(key, m)
  local n = call('ZREM', key, m)
  if sizes[key] then sizes[key] = sizes[key] - n end
end

-- expired returns up to limit members of the sorted set key (members start with nnn) whose time
-- is before (u, n), or at it too when inclusive, oldest first.
local function expired(key, u, n, inclusive, limit)
  local raw = call('ZRANGEBYSCORE', key, '-inf', int(u), 'WITHSCORES', 'LIMIT', 0, limit)
  local out = {}
  for i = 1, #raw, 2 do
    local mu, mn = tonumber(raw[i + 1]), tonumber(sub(raw[i], 1, 3))
    if lt(mu, mn, u, n) or (inclusive and mu == u and mn == n) then
      out[#out + 1] = raw[i]
    else
      break -- members are in time order
    end
  end
  return out
end

-- failures_between returns the failures of key in [a, b] (inclusive, exact), ascending, as
-- parallel arrays of u, n and member.
local function failures_between(key, au, an, bu, bn)
  local raw = call('ZRANGEBYSCORE', key, int(au), int(bu), 'WITHSCORES')
  local fu, fn, fm = {}, {}, {}
  for i = 1, #raw, 2 do
    local m = raw[i]
    local u, n = tonumber(raw[i + 1]), tonumber(sub(m, 1, 3))
    if not lt(u, n, au, an) and not lt(bu, bn, u, n) then
      fu[#fu + 1], fn[#fn + 1], fm[#fm + 1] = u, n, m
    end
  end
  return fu, fn, fm
end

-- fires is window.fires: whether K failures of f (ascending), together with the logon time t, fit
-- in one interval of length window (inclusive); if so, the failures of the first such interval.
local function fires(fu, fn, tu, tn)
  local len = #fu
  for i = 1, len - K + 1 do
    local lou, lon = fu[i], fn[i]
    if lt(tu, tn, lou, lon) then lou, lon = tu, tn end
    local hiu, hin = fu[i + K - 1], fn[i + K - 1]
    if lt(hiu, hin, tu, tn) then hiu, hin = tu, tn end
    local eu, en = plus(lou, lon, WU, WN)
    if not lt(eu, en, hiu, hin) then
      local j = i + K
      while j <= len and not lt(eu, en, fu[j], fn[j]) do j = j + 1 end
      return true, j - i, fu[i], fn[i], fu[j - 1], fn[j - 1]
    end
  end
  return false
end

-- Compaction, as window.compact: drop failures that can never change a decision, so a sprayed
-- IP's set stays short.

local function lower(fu, fn, au, an) -- first index with f >= a
  local lo, hi = 1, #fu + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if lt(fu[mid], fn[mid], au, an) then lo = mid + 1 else hi = mid end
  end
  return lo
end

local function upper(fu, fn, bu, bn) -- first index with f > b
  local lo, hi = 1, #fu + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if lt(bu, bn, fu[mid], fn[mid]) then hi = mid else lo = mid + 1 end
  end
  return lo
end

local function others(fu, fn, j, au, an) -- failures in [a, a+window] except index j
  local bu, bn = plus(au, an, WU, WN)
  local lo, hi = lower(fu, fn, au, an), upper(fu, fn, bu, bn)
  local c = hi - lo
  if j >= lo and j < hi then c = c - 1 end
  return c
end

local function redundant(fu, fn, j)
  local xu, xn = fu[j], fn[j]
  local su, sn = minus(xu, xn, WU, WN)
  if others(fu, fn, j, su, sn) < K then return false end
  local i = j - 1
  while i >= 1 and not lt(fu[i], fn[i], su, sn) do
    if not (fu[i] == xu and fn[i] == xn) then
      local au, an = plus(fu[i], fn[i], 0, 1)
      if others(fu, fn, j, au, an) < K then return false end
    end
    i = i - 1
  end
  return true
end

local function compact(key)
  local raw = call('ZRANGE', key, 0, -1, 'WITHSCORES')
  local fu, fn, fm = {}, {}, {}
  for i = 1, #raw, 2 do
    fu[#fu + 1], fn[#fn + 1], fm[#fm + 1] = tonumber(raw[i + 1]), tonumber(sub(raw[i], 1, 3)), raw[i]
  end
  local removed = {}
  local j = 1
  while j <= #fu do
    -- Fast rule: with K failures on each side inside one window, every interval holding f[j]
    -- holds K of them (it reaches back to f[j-K] or, if not, on to f[j+K]).
    local dense = false
    if j > K and j + K <= #fu then
      local eu, en = plus(fu[j - K], fn[j - K], WU, WN)
      dense = not lt(eu, en, fu[j + K], fn[j + K])
    end
    if dense or redundant(fu, fn, j) then
      table.remove(fu, j)
      table.remove(fn, j)
      removed[#removed + 1] = table.remove(fm, j)
    else
      j = j + 1
    end
  end
  for a = 1, #removed, 500 do -- unpack has a stack limit
    call('ZREM', key, unpack(removed, a, math.min(a + 499, #removed)))
  end
  stats.compacted = stats.compacted + #removed
end

-- Dropping state.

-- A tracked pair's member in ips, and its field in newest.
local function ips_member(ip, tb, n) return ns3(n) .. ip .. fmt('%03d', tb) end
local function newest_field(ip, tb) return ip .. '|' .. tb end

-- drop_ip forgets the tracked pair whose member in ips is m.
local function drop_ip(m)
  local ip, tb = sub(m, 4, -4), tonumber(sub(m, -3))
  call('DEL', fkey(tb, ip))
  zrem_counted(IPS, m)
  call('HDEL', NEWEST, newest_field(ip, tb))
end

local function drop_logon(m)
  local done, _, ip, _, wm = read_logon(call('GET', lkey(sub(m, 4))))
  if done then
    for tb = 0, TABLES - 1 do
      if bit.band(done, 2 ^ tb) == 0 then call('ZREM', wkey(tb, ip), wm) end
    end
    call('DEL', lkey(sub(m, 4)))
  end
  zrem_counted(LOGONS, m)
end

-- A mark's member in marks: nnn..tb..'|'..ip..'|'..u..'|'..host; in its own set: nnn..u.
local function mark_member(tb, ip, host, u, n) return ns3(n) .. tb .. '|' .. ip .. '|' .. int(u) .. '|' .. host end
local function skey(tb, ip, host) return P .. 's:' .. tb .. '|' .. ip .. '|' .. host end

local function drop_mark(m)
  local tb, ip, u, host = string.match(m, '^%d%d%d(%d+)|(%x+)|(-?%d+)|(.*)$')
  if tb then call('ZREM', skey(tb, ip, host), sub(m, 1, 3) .. u) end
  zrem_counted(MARKS, m)
end

-- The horizon: no current event can pair with state older than clock - 2 windows.
local function horizon() return minus(clock_u, clock_n, W2U, W2N) end

-- expire drops, up to limit of each, the IPs whose newest failure and the logons that are older
-- than the horizon, and the suppress marks that can no longer hold back a logon that may alert (a
-- mark at m holds back logons in (m - suppress, m + suppress)). It reports whether all are gone.
local function expire(limit)
  local hu, hn = horizon()
  local ips = expired(IPS, hu, hn, false, limit)
  for _, m in ipairs(ips) do
    drop_ip(m)
    stats.expired_ips = stats.expired_ips + 1
  end
  local logons = expired(LOGONS, hu, hn, false, limit)
  for _, m in ipairs(logons) do
    drop_logon(m)
    stats.expired_logons = stats.expired_logons + 1
  end
  local marks = {}
  if SUPPRESS then
    local mu, mn = minus(hu, hn, SU, SN)
    marks = expired(MARKS, mu, mn, true, limit)
    for _, m in ipairs(marks) do drop_mark(m) end
  end
  return #ips < limit and #logons < limit and #marks < limit
end

-- expire_all drops everything expired: a bound evicts live state only once expired state is gone.
local function expire_all()
  while not expire(EXPIRE_LIMIT) do end
end

-- Alerts.

-- emit appends the alert of a logon (its event index, or -1 and its payload) for table tb, unless a
-- suppress mark of (ip, host, tb) is less than suppress from the logon time; else it marks it.
local function emit(idx, payload, ip, host, lu, ln, tb, count, au, an, bu, bn)
  if SUPPRESS then
    local sk = skey(tb, ip, host)
    local near = call('ZRANGEBYSCORE', sk, int(lu - SU - 1), int(lu + SU + 1))
    for _, m in ipairs(near) do
      local pu, pn = tonumber(sub(m, 4)), tonumber(sub(m, 1, 3))
      local du, dn
      if lt(pu, pn, lu, ln) then du, dn = minus(lu, ln, pu, pn) else du, dn = minus(pu, pn, lu, ln) end
      if lt(du, dn, SU, SN) then
        stats.suppressed = stats.suppressed + 1
        return
      end
    end
    if size(MARKS) >= MAX_MARKS then
      expire_all()
      if size(MARKS) >= MAX_MARKS then
        drop_mark(call('ZRANGE', MARKS, 0, 0)[1])
        stats.evicted_marks = stats.evicted_marks + 1
      end
    end
    call('ZADD', sk, int(lu), ns3(ln) .. int(lu))
    call('PEXPIRE', sk, TTL)
    zadd_counted(MARKS, lu, mark_member(tb, ip, host, lu, ln))
  end
  if idx >= 0 then payload = '' end -- the client has it
  local a = alerts
  a[#a + 1] = idx
  a[#a + 1] = payload
  a[#a + 1] = tb
  a[#a + 1] = count
  a[#a + 1] = au
  a[#a + 1] = an
  a[#a + 1] = bu
  a[#a + 1] = bn
end

-- fire_between alerts, for table tb, every logon of ip waiting for tb with a time in [from, to],
-- given the failures f of (tb, ip) that cover those logons' windows.
local function fire_between(tb, ip, fu, fn, fromu, fromn, tou, ton)
  local key = wkey(tb, ip)
  local raw = call('ZRANGEBYSCORE', key, int(fromu), int(tou), 'WITHSCORES')
  local bitv = 2 ^ tb
  for i = 1, #raw, 2 do
    local m = raw[i]
    local lu, ln = tonumber(raw[i + 1]), tonumber(sub(m, 1, 3))
    if not lt(lu, ln, fromu, fromn) and not lt(tou, ton, lu, ln) then
      call('ZREM', key, m)
      local id = sub(m, 4)
      local lk = lkey(id)
      local done, _, _, host, _, payload = read_logon(call('GET', lk))
      local ok, count, au, an, bu, bn = fires(fu, fn, lu, ln)
      if done and ok then -- no logon: it expired (TTL), nothing left to alert
        done = done + bitv
        emit(batch_logons[id] or -1, payload, ip, host, lu, ln, tb, count, au, an, bu, bn)
        if done == ALL then
          call('DEL', lk)
          zrem_counted(LOGONS, m)
        else
          call('SET', lk, logon_value(done, ln, ip, host, m, payload), 'KEEPTTL')
        end
      end
    end
  end
end

-- Events.

-- track_ip records the newest failure time of (tb, ip). A new pair beyond MAX_IPS evicts, once
-- expired pairs are gone, the pair whose newest failure is the oldest (then the lowest address, then
-- table), which may be the new one: then it returns false and the failure is not kept.
local function track_ip(ip, tb, tu, tn)
  local field = newest_field(ip, tb)
  local cur = call('HGET', NEWEST, field)
  if cur then
    local ou, on = parse(cur)
    if lt(ou, on, tu, tn) then
      call('ZREM', IPS, ips_member(ip, tb, on))
      call('ZADD', IPS, int(tu), ips_member(ip, tb, tn))
      call('HSET', NEWEST, field, pair(tu, tn))
    end
    return true
  end
  local m = ips_member(ip, tb, tn)
  if size(IPS) >= MAX_IPS then
    expire_all()
    if size(IPS) >= MAX_IPS then
      stats.evicted_ips = stats.evicted_ips + 1
      local oldest = call('ZRANGE', IPS, 0, 0, 'WITHSCORES')
      local vu, vm = tonumber(oldest[2]), oldest[1]
      if lt(tu, 0, vu, 0) or (tu == vu and m < vm) then -- members order by nnn, address, table
        return false
      end
      drop_ip(vm)
    end
  end
  zadd_counted(IPS, tu, m)
  call('HSET', NEWEST, field, pair(tu, tn))
  return true
end

local function failure(i, tb, ip, tu, tn)
  if not track_ip(ip, tb, tu, tn) then return end
  local key = fkey(tb, ip)
  call('ZADD', key, int(tu), ns3(tn) .. seq .. '.' .. i)
  call('PEXPIRE', key, TTL)
  if call('ZCARD', key) >= 4 * K then
    -- Failures older than the horizon can no longer pair with any current event.
    local hu = horizon()
    if call('ZREMRANGEBYSCORE', key, '-inf', '(' .. int(hu)) == 0 or call('ZCARD', key) >= 4 * K then
      compact(key)
    end
  end

  if call('EXISTS', wkey(tb, ip)) == 0 then return end
  -- Only runs of K failures that hold the new one can make a logon fire now; each run that fits in
  -- the window makes every logon in [last - window, first + window] fire. Those logons lie within a
  -- window of t, so the failures within two windows of t decide them.
  local au, an = minus(tu, tn, W2U, W2N)
  local bu, bn = plus(tu, tn, W2U, W2N)
  local fu, fn = failures_between(key, au, an, bu, bn)
  local lo = lower(fu, fn, tu, tn)
  if lo > #fu or fu[lo] ~= tu or fn[lo] ~= tn then return end -- compacted away: it changed no decision
  local hi = upper(fu, fn, tu, tn) - 1
  for s = math.max(1, lo - K + 1), hi do
    if s + K - 1 > #fu then break end
    local e = s + K - 1
    local eu, en = plus(fu[s], fn[s], WU, WN)
    if not lt(eu, en, fu[e], fn[e]) then
      local fromu, fromn = minus(fu[e], fn[e], WU, WN)
      fire_between(tb, ip, fu, fn, fromu, fromn, eu, en)
      if call('EXISTS', wkey(tb, ip)) == 0 then break end
    end
  end
end

local function logon(i, ip, host, tu, tn, payload)
  local done = 0
  local fkeys = {}
  for tb = 0, TABLES - 1 do fkeys[#fkeys + 1] = fkey(tb, ip) end
  if call('EXISTS', unpack(fkeys)) > 0 then -- most logons come from addresses with no failures at all
    local au, an = minus(tu, tn, WU, WN)
    local bu, bn = plus(tu, tn, WU, WN)
    for tb = 0, TABLES - 1 do
      local fu, fn = failures_between(fkey(tb, ip), au, an, bu, bn)
      local ok, count, fau, fan, fbu, fbn = fires(fu, fn, tu, tn)
      if ok then
        done = done + 2 ^ tb
        emit(i, '', ip, host, tu, tn, tb, count, fau, fan, fbu, fbn)
      end
    end
    if done == ALL then return end
  end

  -- At the bound, once expired logons are gone, the oldest waiting logon goes (the earliest
  -- arrived among equal times): this one when it is older than all of them.
  if size(LOGONS) >= MAX_LOGONS then
    expire_all()
    if size(LOGONS) >= MAX_LOGONS then
      local oldest = call('ZRANGE', LOGONS, 0, 0, 'WITHSCORES')
      stats.evicted_logons = stats.evicted_logons + 1
      if lt(tu, tn, tonumber(oldest[2]), tonumber(sub(oldest[1], 1, 3))) then
        return
      end
      drop_logon(oldest[1])
    end
  end
  local id = seq_id .. '.' .. fmt('%09d', i)
  local m = ns3(tn) .. id
  call('SET', lkey(id), logon_value(done, tn, ip, host, m, payload), 'PX', TTL)
  zadd_counted(LOGONS, tu, m)
  for tb = 0, TABLES - 1 do
    if bit.band(done, 2 ^ tb) == 0 then
      local w = wkey(tb, ip)
      call('ZADD', w, int(tu), m)
      call('PEXPIRE', w, TTL)
    end
  end
  batch_logons[id] = i
end

-- The batch, in order.

local verdicts = {}
local late_u, late_n = minus(clock_u, clock_n, WU, WN)
for i = 0, N - 1 do
  local o = FIRST + i * STRIDE
  local kind, tb, ip = ARGV[o], tonumber(ARGV[o + 1]), ARGV[o + 2]
  local tu, tn = tonumber(ARGV[o + 3]), tonumber(ARGV[o + 4])
  if lt(tu, tn, late_u, late_n) then
    verdicts[#verdicts + 1] = 'l'
  else
    verdicts[#verdicts + 1] = 'c'
    if lt(clock_u, clock_n, tu, tn) then
      clock_u, clock_n = tu, tn
      late_u, late_n = minus(clock_u, clock_n, WU, WN)
    end
    if kind == 'f' then
      failure(i, tb, ip, tu, tn)
    else
      logon(i, ip, ARGV[o + 5], tu, tn, ARGV[o + 6])
    end
  end
end
expire(EXPIRE_LIMIT)

call('SET', CLOCK, pair(clock_u, clock_n), 'PX', TTL)
for _, k in ipairs({ SEQ, IPS, LOGONS, NEWEST, MARKS }) do call('PEXPIRE', k, TTL) end

return {
  table.concat(verdicts),
  alerts,
  { stats.evicted_ips, stats.evicted_logons, stats.suppressed, stats.expired_ips, stats.expired_logons, stats.compacted,
    stats.evicted_marks },
  call('ZCARD', IPS),
  call('ZCARD', LOGONS),
  clock_u,
  clock_n,
}
