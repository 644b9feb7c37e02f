-- Applies one batch of failures and successes to the state a fleet of collectors shares,
-- atomically, and returns the alerts they complete. It is the Redis twin of internal/window's
-- Engine: same rules, same decisions (fires), same late rule against one clock for the whole fleet,
-- same expiry, same bounds and the same victims at them.
--
-- Rules. The client passes the rule set (ARGV[2]); the script derives, as the engine does:
--   maxW                     the longest window of the rules: an event more than maxW behind the
--                            clock is late;
--   per rule r               k (threshold+1), window, suppress, its counters (ids), the done bits of
--                            a success that alerted for all of them, and its span = maxW + window;
--   per counter c            k, window and span of the rules that read it (rules share a counter only
--                            when they have the same threshold and window).
-- State is kept per (counter, address) for failures, per success for waiting successes (a success
-- of r waits in the set of (c, address) for each counter c of r it has not alerted for; its done
-- bits are by index among r's counters), and per (rule, counter, address, host) for suppress marks.
--
-- Times. Redis' Lua numbers are doubles, exact only up to 2^53, and Unix nanoseconds (~1.8e18) are
-- not. A time is therefore a pair (u, n): whole microseconds since the epoch (exact in a double until
-- the year 2255) and the nanoseconds below them (0 to 999). Sorted-set scores are u; members start
-- with n as three digits, so Redis' order (score, then member) is nanosecond order. Every
-- comparison below is on pairs: decisions are exact to the nanosecond, as in memory.
--
-- Orders. Expiry and the bounds take state in the order in which it is due (expires), exactly as
-- in memory:
--   (counter, address) records   due = newest failure + the counter's span; ties: address, counter
--   waiting successes            due = time + the rule's span; ties: arrival
--   suppress marks               due = time + suppress + the rule's span; ties: rule, counter,
--                                address, host
-- The sorted sets that order them (ips, logons, marks) are therefore scored by the due time, not by
-- the event time: rules of different windows interleave, and only the due time orders them as
-- memory does. Each member starts with the due time's nanoseconds (nnn) and goes on with what
-- breaks ties, in fixed width where a shorter field could otherwise sort after a longer one (rule
-- and counter as three digits, the address as 32 hex digits, the arrival number zero-padded); a
-- mark's host comes last, so byte order is Go's string order. So Redis' (score, member) order is
-- memory's (due, tie-breaks) order, to the nanosecond. Expiry: records and successes once their due
-- time is before the clock, marks once it is at or before it.
--
-- Keys (P is the key prefix; r a rule index and c a counter id, in decimal; ip the address in
-- 16-byte form as 32 hex digits, so that string order is the address order memory uses; id a
-- success's arrival number, seq..'.'..index, both zero-padded, so that string order is arrival
-- order; rrr, ccc: r and c as three digits):
--   KEYS[1] P..'clock'   "u n": the largest event time the fleet accepted
--   KEYS[2] P..'seq'     counter; makes failure members and success ids unique across the fleet
--   KEYS[3] P..'ips'     sorted set: tracked (counter, address) records by due; member nnn..ip..ccc
--   KEYS[4] P..'logons'  sorted set: waiting successes by due; member nnn..id
--   KEYS[5] P..'newest'  hash: ip..'|'..c -> "u n" of the record's newest failure (to find its member)
--   KEYS[6] P..'marks'   sorted set: every suppress mark by due;
--                        member nnn..rrr..ccc..ip..u..'.'..ttt..'|'..host (u, ttt: the mark's time)
--   P..'f:'..c..'|'..ip             sorted set of failure times; member nnn..seq..'.'..index
--   P..'w:'..c..'|'..ip             sorted set of the successes waiting for counter c, by time
--                                   (of any rule that reads c); member nnn..id
--   P..'l:'..id                     a waiting success (logon_value): rule, done bits, ns, ip, host,
--                                   member in the w: sets, payload
--   P..'s:'..r..'|'..c..'|'..ip..'|'..host   sorted set of suppress marks: the times of the alerts
--                                            emitted; member nnn..u
-- Every key is also given a TTL (ARGV[5] ms: the longest span + suppress of a rule, + skew, at least
-- a minute) after each write: a safety net that bounds memory if the fleet stops; the event-time
-- expiry below is what the rules rely on.
--
-- ARGV: 1 prefix, 2 rules, 3 max (counter, address) records, 4 max waiting successes, 5 TTL ms,
-- 6 expiry limit per batch, 7 max suppress marks, 8 event count, then 7 per event: kind ('f'
-- failure, 'l' success), counter (failure) or rule (success), ip, u, n, host, encoded payload (host
-- and payload are empty for a failure). Rules: one per rule, in order (rule 0 first), separated by
-- ';', each "k wu wn su sn c1,c2,...": threshold+1, window (u n), suppress (u n), its counters.
-- A failure of a counter no rule reads, or a success of an unknown rule, only moves the clock.
--
-- Reply: { verdicts ('c' current / 'l' late, one per event), alerts (10 per alert: event index or
-- -1, payload or '', rule, index of the counter among the rule's, counter, count, first u, first n,
-- last u, last n), stats, tracked records, waiting successes, clock u, clock n }.

local P = ARGV[1]
local RULE_SPEC = ARGV[2]
local MAX_IPS = tonumber(ARGV[3])
local MAX_LOGONS = tonumber(ARGV[4])
local TTL = ARGV[5]
local EXPIRE_LIMIT = tonumber(ARGV[6])
local MAX_MARKS = tonumber(ARGV[7])
local N = tonumber(ARGV[8])
local FIRST, STRIDE = 9, 7

local CLOCK, SEQ, IPS, LOGONS, NEWEST, MARKS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]

local call = redis.call
local fmt, sub = string.format, string.sub
local band, bor = bit.band, bit.bor

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
local function id3(x) return fmt('%03d', x) end

-- The rules.

local RULES = {}    -- by rule index, from 0
local COUNTERS = {} -- by counter id: k, window (wu, wn), two windows (w2u, w2n), span (spu, spn)
local MAXW_U, MAXW_N = 0, 0
local SUPPRESS = false -- some rule suppresses
do
  local r = 0
  for spec in string.gmatch(RULE_SPEC, '[^;]+') do
    local k, wu, wn, su, sn, ids = string.match(spec, '^(%d+) (%d+) (%d+) (%d+) (%d+) ([%d,]+)$')
    if not k then error('rule ' .. r .. ': cannot read "' .. spec .. '"') end
    local rule = { k = tonumber(k), wu = tonumber(wu), wn = tonumber(wn), su = tonumber(su), sn = tonumber(sn),
      counters = {}, index = {} }
    for id in string.gmatch(ids, '%d+') do
      local c = tonumber(id)
      rule.index[c] = #rule.counters -- its done bit is 2^index
      rule.counters[#rule.counters + 1] = c
    end
    rule.all = 2 ^ #rule.counters - 1
    rule.suppress = rule.su > 0 or rule.sn > 0
    SUPPRESS = SUPPRESS or rule.suppress
    if lt(MAXW_U, MAXW_N, rule.wu, rule.wn) then MAXW_U, MAXW_N = rule.wu, rule.wn end
    RULES[r] = rule
    r = r + 1
  end
  for _, rule in pairs(RULES) do
    rule.spu, rule.spn = plus(MAXW_U, MAXW_N, rule.wu, rule.wn)
    local w2u, w2n = plus(rule.wu, rule.wn, rule.wu, rule.wn)
    for _, c in ipairs(rule.counters) do
      COUNTERS[c] = { k = rule.k, wu = rule.wu, wn = rule.wn, w2u = w2u, w2n = w2n, spu = rule.spu, spn = rule.spn }
    end
  end
end

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
local batch_logons = {} -- success id -> event index, for successes of this batch (their payload is at the client)

local function fkey(c, ip) return P .. 'f:' .. c .. '|' .. ip end
local function wkey(c, ip) return P .. 'w:' .. c .. '|' .. ip end
local function lkey(id) return P .. 'l:' .. id end

-- A waiting success is one string (one SET with its TTL): a header "rule done ns #ip #host #member",
-- then the ip, host and member, then the encoded payload.
local function logon_value(r, done, tn, ip, host, m, payload)
  return int(r) .. ' ' .. int(done) .. ' ' .. int(tn) .. ' ' .. #ip .. ' ' .. #host .. ' ' .. #m .. '\n' ..
      ip .. host .. m .. payload
end

-- read_logon returns rule, done, ns, ip, host, member and payload of a logon_value (nil for none).
local function read_logon(v)
  if not v then return nil end
  local r, d, n, la, lh, lm, at = string.match(v, '^(%d+) (%d+) (%d+) (%d+) (%d+) (%d+)\n()')
  if not r then return nil end
  la, lh, lm = tonumber(la), tonumber(lh), tonumber(lm)
  local ip = sub(v, at, at + la - 1)
  local host = sub(v, at + la, at + la + lh - 1)
  local m = sub(v, at + la + lh, at + la + lh + lm - 1)
  return tonumber(r), tonumber(d), tonumber(n), ip, host, m, sub(v, at + la + lh + lm)
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

-- fires is window.fires: whether k failures of f (ascending), together with the success time t, fit
-- in one interval of length w (inclusive); if so, the failures of the first such interval.
local function fires(fu, fn, tu, tn, k, wu, wn)
  local len = #fu
  for i = 1, len - k + 1 do
    local lou, lon = fu[i], fn[i]
    if lt(tu, tn, lou, lon) then lou, lon = tu, tn end
    local hiu, hin = fu[i + k - 1], fn[i + k - 1]
    if lt(hiu, hin, tu, tn) then hiu, hin = tu, tn end
    local eu, en = plus(lou, lon, wu, wn)
    if not lt(eu, en, hiu, hin) then
      local j = i + k
      while j <= len and not lt(eu, en, fu[j], fn[j]) do j = j + 1 end
      return true, j - i, fu[i], fn[i], fu[j - 1], fn[j - 1]
    end
  end
  return false
end

-- Compaction, as window.compact: drop failures that can never change a decision, so a sprayed
-- address's set stays short. cn is the counter (its k and window).

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

local function others(fu, fn, j, au, an, cn) -- failures in [a, a+window] except index j
  local bu, bn = plus(au, an, cn.wu, cn.wn)
  local lo, hi = lower(fu, fn, au, an), upper(fu, fn, bu, bn)
  local c = hi - lo
  if j >= lo and j < hi then c = c - 1 end
  return c
end

local function redundant(fu, fn, j, cn)
  local xu, xn = fu[j], fn[j]
  local su, sn = minus(xu, xn, cn.wu, cn.wn)
  if others(fu, fn, j, su, sn, cn) < cn.k then return false end
  local i = j - 1
  while i >= 1 and not lt(fu[i], fn[i], su, sn) do
    if not (fu[i] == xu and fn[i] == xn) then
      local au, an = plus(fu[i], fn[i], 0, 1)
      if others(fu, fn, j, au, an, cn) < cn.k then return false end
    end
    i = i - 1
  end
  return true
end

local function compact(key, cn)
  local K = cn.k
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
      local eu, en = plus(fu[j - K], fn[j - K], cn.wu, cn.wn)
      dense = not lt(eu, en, fu[j + K], fn[j + K])
    end
    if dense or redundant(fu, fn, j, cn) then
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

-- A tracked record's member in ips (dn: its due time's nanoseconds), and its field in newest.
local function ips_member(ip, c, dn) return ns3(dn) .. ip .. id3(c) end
local function newest_field(ip, c) return ip .. '|' .. c end

-- drop_ip forgets the tracked record whose member in ips is m.
local function drop_ip(m)
  local ip, c = sub(m, 4, -4), tonumber(sub(m, -3))
  call('DEL', fkey(c, ip))
  zrem_counted(IPS, m)
  call('HDEL', NEWEST, newest_field(ip, c))
end

-- drop_logon forgets the waiting success whose member in logons is m.
local function drop_logon(m)
  local id = sub(m, 4)
  local r, done, _, ip, _, wm = read_logon(call('GET', lkey(id)))
  local rule = r and RULES[r]
  if rule then
    for j, c in ipairs(rule.counters) do
      if band(done, 2 ^ (j - 1)) == 0 then call('ZREM', wkey(c, ip), wm) end
    end
  end
  call('DEL', lkey(id))
  zrem_counted(LOGONS, m)
end

-- A mark's member in marks (see the header), and its own set.
local MARK_PATTERN = '^%d%d%d(%d%d%d)(%d%d%d)(' .. string.rep('%x', 32) .. ')(-?%d+)%.(%d%d%d)|(.*)$'
local function mark_member(dn, r, c, ip, u, n, host)
  return ns3(dn) .. id3(r) .. id3(c) .. ip .. int(u) .. '.' .. ns3(n) .. '|' .. host
end
local function skey(r, c, ip, host) return P .. 's:' .. r .. '|' .. c .. '|' .. ip .. '|' .. host end

local function drop_mark(m)
  local r, c, ip, u, n, host = string.match(m, MARK_PATTERN)
  if r then call('ZREM', skey(tonumber(r), tonumber(c), ip, host), n .. u) end
  zrem_counted(MARKS, m)
end

-- expire drops, up to limit of each, the records and the waiting successes due before the clock,
-- and the suppress marks due at or before it (a mark at m holds back successes in
-- (m - suppress, m + suppress); none of them can alert once m + suppress is a span behind the
-- clock). It reports whether all are gone.
local function expire(limit)
  local ips = expired(IPS, clock_u, clock_n, false, limit)
  for _, m in ipairs(ips) do
    drop_ip(m)
    stats.expired_ips = stats.expired_ips + 1
  end
  local logons = expired(LOGONS, clock_u, clock_n, false, limit)
  for _, m in ipairs(logons) do
    drop_logon(m)
    stats.expired_logons = stats.expired_logons + 1
  end
  local marks = {}
  if SUPPRESS then
    marks = expired(MARKS, clock_u, clock_n, true, limit)
    for _, m in ipairs(marks) do drop_mark(m) end
  end
  return #ips < limit and #logons < limit and #marks < limit
end

-- expire_all drops everything expired: a bound evicts live state only once expired state is gone.
local function expire_all()
  while not expire(EXPIRE_LIMIT) do end
end

-- Alerts.

-- emit appends the alert of a success (its event index, or -1 and its payload) of rule r for its
-- j-th counter c, unless a suppress mark of (r, c, ip, host) is less than suppress from the
-- success time; else it marks it.
local function emit(idx, payload, r, rule, j, c, ip, host, lu, ln, count, au, an, bu, bn)
  if rule.suppress then
    local SU, SN = rule.su, rule.sn
    local sk = skey(r, c, ip, host)
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
    local du, dn = plus(lu, ln, SU, SN)
    du, dn = plus(du, dn, rule.spu, rule.spn)
    zadd_counted(MARKS, du, mark_member(dn, r, c, ip, lu, ln, host))
  end
  if idx >= 0 then payload = '' end -- the client has it
  local a = alerts
  a[#a + 1] = idx
  a[#a + 1] = payload
  a[#a + 1] = r
  a[#a + 1] = j
  a[#a + 1] = c
  a[#a + 1] = count
  a[#a + 1] = au
  a[#a + 1] = an
  a[#a + 1] = bu
  a[#a + 1] = bn
end

-- fire_between alerts, for counter c, every success from ip waiting for c with a time in
-- [from, to], given the failures f of (c, ip) that cover those successes' windows.
local function fire_between(c, cn, ip, fu, fn, fromu, fromn, tou, ton)
  local key = wkey(c, ip)
  local raw = call('ZRANGEBYSCORE', key, int(fromu), int(tou), 'WITHSCORES')
  for i = 1, #raw, 2 do
    local m = raw[i]
    local lu, ln = tonumber(raw[i + 1]), tonumber(sub(m, 1, 3))
    if not lt(lu, ln, fromu, fromn) and not lt(tou, ton, lu, ln) then
      call('ZREM', key, m)
      local id = sub(m, 4)
      local lk = lkey(id)
      local r, done, _, _, host, _, payload = read_logon(call('GET', lk))
      local rule = r and RULES[r]
      local j = rule and rule.index[c]
      local ok, count, au, an, bu, bn = fires(fu, fn, lu, ln, cn.k, cn.wu, cn.wn)
      if j and ok then -- no success: it expired (TTL), nothing left to alert
        done = bor(done, 2 ^ j)
        emit(batch_logons[id] or -1, payload, r, rule, j, c, ip, host, lu, ln, count, au, an, bu, bn)
        if done == rule.all then
          call('DEL', lk)
          local _, dn = plus(lu, ln, rule.spu, rule.spn)
          zrem_counted(LOGONS, ns3(dn) .. id)
        else
          call('SET', lk, logon_value(r, done, ln, ip, host, m, payload), 'KEEPTTL')
        end
      end
    end
  end
end

-- Events.

-- track_ip records the newest failure time of (c, ip). A new record beyond MAX_IPS evicts, once
-- expired records are gone, the record due first (then the lowest address, then counter), which
-- may be the new one: then it returns false and the failure is not kept.
local function track_ip(ip, c, cn, tu, tn)
  local field = newest_field(ip, c)
  local cur = call('HGET', NEWEST, field)
  local du, dn = plus(tu, tn, cn.spu, cn.spn)
  if cur then
    local ou, on = parse(cur)
    if lt(ou, on, tu, tn) then
      local _, odn = plus(ou, on, cn.spu, cn.spn)
      call('ZREM', IPS, ips_member(ip, c, odn))
      call('ZADD', IPS, int(du), ips_member(ip, c, dn))
      call('HSET', NEWEST, field, pair(tu, tn))
    end
    return true
  end
  local m = ips_member(ip, c, dn)
  if size(IPS) >= MAX_IPS then
    expire_all()
    if size(IPS) >= MAX_IPS then
      stats.evicted_ips = stats.evicted_ips + 1
      local oldest = call('ZRANGE', IPS, 0, 0, 'WITHSCORES')
      local vu, vm = tonumber(oldest[2]), oldest[1]
      if du < vu or (du == vu and m < vm) then -- members order by nnn, address, counter
        return false
      end
      drop_ip(vm)
    end
  end
  zadd_counted(IPS, du, m)
  call('HSET', NEWEST, field, pair(tu, tn))
  return true
end

local function failure(i, c, cn, ip, tu, tn)
  if not track_ip(ip, c, cn, tu, tn) then return end
  local K = cn.k
  local key = fkey(c, ip)
  call('ZADD', key, int(tu), ns3(tn) .. seq .. '.' .. i)
  call('PEXPIRE', key, TTL)
  if call('ZCARD', key) >= 4 * K then
    -- Failures older than the counter's horizon (a span behind the clock) can no longer pair with
    -- any current event.
    local hu = minus(clock_u, clock_n, cn.spu, cn.spn)
    if call('ZREMRANGEBYSCORE', key, '-inf', '(' .. int(hu)) == 0 or call('ZCARD', key) >= 4 * K then
      compact(key, cn)
    end
  end

  if call('EXISTS', wkey(c, ip)) == 0 then return end
  -- Only runs of K failures that hold the new one can make a success fire now; each run that fits
  -- in the window makes every success in [last - window, first + window] fire. Those successes lie
  -- within a window of t, so the failures within two windows of t decide them.
  local au, an = minus(tu, tn, cn.w2u, cn.w2n)
  local bu, bn = plus(tu, tn, cn.w2u, cn.w2n)
  local fu, fn = failures_between(key, au, an, bu, bn)
  local lo = lower(fu, fn, tu, tn)
  if lo > #fu or fu[lo] ~= tu or fn[lo] ~= tn then return end -- compacted away: it changed no decision
  local hi = upper(fu, fn, tu, tn) - 1
  for s = math.max(1, lo - K + 1), hi do
    if s + K - 1 > #fu then break end
    local e = s + K - 1
    local eu, en = plus(fu[s], fn[s], cn.wu, cn.wn)
    if not lt(eu, en, fu[e], fn[e]) then
      local fromu, fromn = minus(fu[e], fn[e], cn.wu, cn.wn)
      fire_between(c, cn, ip, fu, fn, fromu, fromn, eu, en)
      if call('EXISTS', wkey(c, ip)) == 0 then break end
    end
  end
end

local function logon(i, r, rule, ip, host, tu, tn, payload)
  local done = 0
  local fkeys = {}
  for _, c in ipairs(rule.counters) do fkeys[#fkeys + 1] = fkey(c, ip) end
  if call('EXISTS', unpack(fkeys)) > 0 then -- most successes come from addresses with no failures at all
    local au, an = minus(tu, tn, rule.wu, rule.wn)
    local bu, bn = plus(tu, tn, rule.wu, rule.wn)
    for j, c in ipairs(rule.counters) do
      local fu, fn = failures_between(fkeys[j], au, an, bu, bn)
      local ok, count, fau, fan, fbu, fbn = fires(fu, fn, tu, tn, rule.k, rule.wu, rule.wn)
      if ok then
        done = done + 2 ^ (j - 1)
        emit(i, '', r, rule, j - 1, c, ip, host, tu, tn, count, fau, fan, fbu, fbn)
      end
    end
    if done == rule.all then return end
  end

  -- At the bound, once expired successes are gone, the waiting success due first goes (the
  -- earliest arrived among equal due times): this one when it is due before all of them.
  local du, dn = plus(tu, tn, rule.spu, rule.spn)
  if size(LOGONS) >= MAX_LOGONS then
    expire_all()
    if size(LOGONS) >= MAX_LOGONS then
      local oldest = call('ZRANGE', LOGONS, 0, 0, 'WITHSCORES')
      stats.evicted_logons = stats.evicted_logons + 1
      if lt(du, dn, tonumber(oldest[2]), tonumber(sub(oldest[1], 1, 3))) then
        return
      end
      drop_logon(oldest[1])
    end
  end
  local id = seq_id .. '.' .. fmt('%09d', i)
  local m = ns3(tn) .. id
  call('SET', lkey(id), logon_value(r, done, tn, ip, host, m, payload), 'PX', TTL)
  zadd_counted(LOGONS, du, ns3(dn) .. id)
  for j, c in ipairs(rule.counters) do
    if band(done, 2 ^ (j - 1)) == 0 then
      local w = wkey(c, ip)
      call('ZADD', w, int(tu), m)
      call('PEXPIRE', w, TTL)
    end
  end
  batch_logons[id] = i
end

-- The batch, in order.

local verdicts = {}
local late_u, late_n = minus(clock_u, clock_n, MAXW_U, MAXW_N)
for i = 0, N - 1 do
  local o = FIRST + i * STRIDE
  local kind, x, ip = ARGV[o], tonumber(ARGV[o + 1]), ARGV[o + 2]
  local tu, tn = tonumber(ARGV[o + 3]), tonumber(ARGV[o + 4])
  if lt(tu, tn, late_u, late_n) then
    verdicts[#verdicts + 1] = 'l'
  else
    verdicts[#verdicts + 1] = 'c'
    if lt(clock_u, clock_n, tu, tn) then
      clock_u, clock_n = tu, tn
      late_u, late_n = minus(clock_u, clock_n, MAXW_U, MAXW_N)
    end
    if kind == 'f' then
      local cn = COUNTERS[x]
      if cn then failure(i, x, cn, ip, tu, tn) end
    else
      local rule = RULES[x]
      if rule then logon(i, x, rule, ip, ARGV[o + 5], tu, tn, ARGV[o + 6]) end
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
