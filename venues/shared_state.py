"""State shared by every worker: the Jupiter rate limiter's bucket and circuit breaker in Redis, when REDIS_URL is set.

With REDIS_URL, each gunicorn worker's limiter and breaker read and update the same Redis keys. Each update is one
server-side Lua script call (EVALSHA: one round trip, atomic because Redis runs a script alone): BUCKET_LUA for the
token bucket, BREAKER_LUA for the circuit breaker. Each script is the Lua twin of jupiter_guards' transitions
(TakeToken, ReadLevel; ReadStatus, AllowCall, RecordSuccess, RecordFailure), the same arithmetic on the same doubles,
and tests hold the two to identical results. Times come from the callers' wall clock (time.time), which all workers
share. Without REDIS_URL each process keeps its own state in memory (jupiter_guards.MemoryStore). If Redis stops
answering, a store carries on in process memory with the same transitions (logged) and tries Redis again after
REDIS_RETRY_S, so quoting never fails because of Redis.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import redis

from venues.jupiter_guards import (
    AllowCall,
    BreakerState,
    BucketState,
    MemoryStore,
    ReadLevel,
    ReadStatus,
    RecordFailure,
    RecordSuccess,
    StateStore,
    TakeToken,
    Transition,
)

log = logging.getLogger(__name__)
S = TypeVar("S")
R = TypeVar("R")
REDIS_RETRY_S = 5.0
KEY_TTL_S = 3600  # idle state expires back to its initial value (a full bucket, a closed breaker)

# Shared by both scripts. KEYS[1] = the state's key; ARGV[1] = the initial state (JSON), ARGV[2] = the operation,
# ARGV[3] = the key's TTL in seconds, ARGV[4..] = the operation's numbers. The state is stored as JSON (what
# dataclasses.asdict gives), numbers written with 17 significant digits so every double reads back exactly.
# A script answers {result, reset}: result a string, reset 1 when an unreadable stored value was replaced.
_PRELUDE = """
local function num(x) return string.format('%.17g', x) end
local function opt(x) if x == nil then return 'null' end return num(x) end
-- A JSON object of numbers with exactly the fields of `spec` (absent optional ones take their default), or nil.
local function parse(raw, spec)
  local ok, v = pcall(cjson.decode, raw)
  if not ok or type(v) ~= 'table' then return nil end
  for k in pairs(v) do if spec[k] == nil then return nil end end
  local s = {}
  for name, f in pairs(spec) do
    local x = v[name]
    if x == nil then
      if f.required then return nil end
      x = f.default
    elseif x == cjson.null then
      if not f.nullable then return nil end
      x = nil
    elseif type(x) ~= 'number' then
      return nil
    end
    s[name] = x
  end
  return s
end
-- The stored state, or the initial one when the key is absent (reset 0) or unreadable (reset 1).
local function load_state(spec)
  local raw = redis.call('GET', KEYS[1])
  if raw then
    local s = parse(raw, spec)
    if s then return s, 0 end
  end
  local s = parse(ARGV[1], spec)
  if not s then error('bad initial state') end
  return s, raw and 1 or 0
end
local op, ttl = ARGV[2], ARGV[3]
"""

# jupiter_guards.bucket_level, TakeToken and ReadLevel.
BUCKET_LUA = _PRELUDE + """
local s, reset = load_state({tokens = {required = true}, updated_s = {nullable = true}})
local now, rps, burst = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local level = burst
if s.updated_s ~= nil then level = math.min(burst, s.tokens + math.max(0.0, now - s.updated_s) * rps) end
if op == 'level' then return {num(level), reset} end
if op ~= 'take' then return redis.error_reply('unknown bucket operation ' .. tostring(op)) end
local tokens, wait = level, 0
if level >= 1 then tokens = level - 1 else wait = (1 - level) / rps end
if tokens ~= s.tokens or now ~= s.updated_s then
  redis.call('SET', KEYS[1], '{"tokens": ' .. num(tokens) .. ', "updated_s": ' .. num(now) .. '}', 'EX', ttl)
end
return {num(wait), reset}
"""

# jupiter_guards.breaker_status, ReadStatus, AllowCall, RecordSuccess and RecordFailure.
BREAKER_LUA = _PRELUDE + """
local s, reset = load_state({failures = {default = 0}, opened_s = {nullable = true}, probe_s = {nullable = true}})
local function status(now, cooldown)
  if s.opened_s == nil then return 'closed' end
  if now - s.opened_s < cooldown then return 'open' end
  return 'half_open'
end
local function put(failures, opened, probe)
  if failures ~= s.failures or opened ~= s.opened_s or probe ~= s.probe_s then
    redis.call('SET', KEYS[1], '{"failures": ' .. num(failures) .. ', "opened_s": ' .. opt(opened) ..
               ', "probe_s": ' .. opt(probe) .. '}', 'EX', ttl)
  end
end
if op == 'status' then return {status(tonumber(ARGV[4]), tonumber(ARGV[5])), reset} end
if op == 'allow' then
  local now, cooldown = tonumber(ARGV[4]), tonumber(ARGV[5])
  local kind = status(now, cooldown)
  if kind == 'closed' then return {'1', reset} end
  if kind == 'half_open' and (s.probe_s == nil or now - s.probe_s >= cooldown) then
    put(s.failures, s.opened_s, now)
    return {'1', reset}
  end
  return {'0', reset}
end
if op == 'success' then
  put(0, nil, nil)
  return {'', reset}
end
if op == 'failure' then
  local now, threshold = tonumber(ARGV[4]), tonumber(ARGV[5])
  local failures, opened = s.failures + 1, nil
  if s.opened_s ~= nil or failures >= threshold then opened = now end
  put(failures, opened, nil)
  return {'', reset}
end
return redis.error_reply('unknown breaker operation ' .. tostring(op))
"""

SCRIPTS = {BucketState: BUCKET_LUA, BreakerState: BREAKER_LUA}


def _num(x: float) -> str:
    """A number as ARGV text that Lua's tonumber reads back as exactly the same double."""
    return repr(float(x))


def _text(raw: bytes | str) -> str:
    """A reply string whether or not the client decodes responses."""
    return raw.decode() if isinstance(raw, bytes) else raw


Wire = tuple[type, str, list[str], Callable[[bytes | str], Any]]


def _wire(op: Transition[Any, Any]) -> Wire:
    """(the state kind it changes, its script operation, that operation's numbers, the reader of its result)."""
    match op:
        case TakeToken(now, rps, burst):
            return BucketState, "take", [_num(now), _num(rps), _num(burst)], lambda raw: float(_text(raw))
        case ReadLevel(now, rps, burst):
            return BucketState, "level", [_num(now), _num(rps), _num(burst)], lambda raw: float(_text(raw))
        case ReadStatus(now, cooldown_s):
            return BreakerState, "status", [_num(now), _num(cooldown_s)], _text
        case AllowCall(now, cooldown_s):
            return BreakerState, "allow", [_num(now), _num(cooldown_s)], lambda raw: _text(raw) == "1"
        case RecordSuccess():
            return BreakerState, "success", [], lambda raw: None
        case RecordFailure(now, threshold):
            return BreakerState, "failure", [_num(now), str(int(threshold))], lambda raw: None
    raise TypeError(f"RedisStore has no server-side script for {type(op).__name__}")


class RedisStore(Generic[S]):
    """StateStore kept as JSON under one Redis key, changed by one Lua script call per transition.

    `initial` (a BucketState or BreakerState) is the state while the key is absent.
    """

    def __init__(self, client: redis.Redis, key: str, initial: S) -> None:
        if type(initial) not in SCRIPTS:
            raise TypeError(f"RedisStore keeps BucketState or BreakerState, not {type(initial).__name__}")
        self.client, self.key, self.initial = client, key, initial
        self._fallback: MemoryStore[S] = MemoryStore(initial)
        self._redis_down_until = 0.0
        self._initial_json = json.dumps(dataclasses.asdict(initial))
        self._script = client.register_script(SCRIPTS[type(initial)])  # no round trip until first called

    def transact(self, op: Transition[S, R]) -> R:
        """Apply the transition atomically across processes (one EVALSHA); in process memory while Redis is down."""
        kind, name, numbers, read = _wire(op)
        if kind is not type(self.initial):
            raise TypeError(f"{type(op).__name__} changes a {kind.__name__}; {self.key} holds a "
                            f"{type(self.initial).__name__}")
        if time.monotonic() < self._redis_down_until:
            return self._fallback.transact(op)
        try:
            result, reset = self._script(keys=[self.key], args=[self._initial_json, name, KEY_TTL_S, *numbers])
        except redis.RedisError as exc:
            log.warning("Redis unavailable for %s (%s); using process memory for %.0f s", self.key, exc, REDIS_RETRY_S)
            self._redis_down_until = time.monotonic() + REDIS_RETRY_S
            return self._fallback.transact(op)
        if reset:
            log.warning("unreadable shared state under %s; starting afresh", self.key)
        return read(result)


def store_factory(redis_url: str | None, prefix: str = "olr:jupiter") -> Callable[[str, Any], StateStore[Any]] | None:
    """make_client's `store_for(name, initial)`: RedisStores under `prefix:name` when redis_url is set, else None."""
    if not redis_url:
        return None
    client = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return lambda name, initial: RedisStore(client, f"{prefix}:{name}", initial)
