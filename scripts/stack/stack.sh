#!/usr/bin/env bash
# The local LiveKit telephony stack: Redis, livekit-server and livekit-sip, all on 127.0.0.1.
#   stack.sh up      install what is missing, write configs, start what is not running, wait until healthy
#   stack.sh down    stop the three servers
#   stack.sh status  one line per server; exit 1 when any is down
#   stack.sh env     print LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET of the stack (for `source`)
#   stack.sh logs    print the tail of every server log
# State lives in .stack/ (git-ignored): bin/, conf/, logs/, run/ (pid files), data/, credentials.env.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The stack's API key and secret are made once per checkout, never committed (.stack/ is ignored).
ensure_credentials() {
  if [[ ! -f $STACK_CREDENTIALS ]]; then
    mkdir -p "$STACK_DIR"
    umask 077
    {
      echo "LIVEKIT_URL=ws://$STACK_HOST:$LIVEKIT_PORT"
      echo "LIVEKIT_API_KEY=API$(openssl rand -hex 6)"
      echo "LIVEKIT_API_SECRET=$(openssl rand -hex 32)"
    } >"$STACK_CREDENTIALS"
  fi
  # shellcheck disable=SC1090
  source "$STACK_CREDENTIALS"
}

write_configs() {
  mkdir -p "$STACK_CONF" "$STACK_LOGS" "$STACK_RUN" "$STACK_DATA"
  cat >"$STACK_CONF/redis.conf" <<EOF
bind $STACK_HOST
port $REDIS_PORT
daemonize no
save ""
appendonly no
dir $STACK_DATA
maxmemory-policy noeviction
EOF
  cat >"$STACK_CONF/livekit.yaml" <<EOF
port: $LIVEKIT_PORT
bind_addresses: [$STACK_HOST]
rtc:
  tcp_port: $LIVEKIT_RTC_TCP_PORT
  udp_port: $LIVEKIT_RTC_UDP_PORT
  use_external_ip: false
  node_ip: $STACK_HOST
  enable_loopback_candidate: true
  ips:
    includes: [$STACK_HOST/32]
  # Unset, the server hands out and queries public STUN hosts; nothing listens here, which is fine on loopback.
  stun_servers: ["$STACK_HOST:3478"]
redis:
  address: $STACK_HOST:$REDIS_PORT
keys:
  $LIVEKIT_API_KEY: $LIVEKIT_API_SECRET
logging:
  level: info
EOF
  cat >"$STACK_CONF/sip.yaml" <<EOF
api_key: $LIVEKIT_API_KEY
api_secret: $LIVEKIT_API_SECRET
ws_url: ws://$STACK_HOST:$LIVEKIT_PORT
redis:
  address: $STACK_HOST:$REDIS_PORT
sip_port: $SIP_PORT
listen_ip: $STACK_HOST
nat_1_to_1_ip: $STACK_HOST
media_nat_1_to_1_ip: $STACK_HOST
rtp_port: $SIP_RTP_START-$SIP_RTP_END
# 0.9 (the default) makes it refuse calls whenever the 2 test cores are busy.
max_cpu_utilization: 1.0
logging:
  level: debug
EOF
  chmod 600 "$STACK_CONF"/*.yaml
}

# start NAME CMD...: runs CMD in the background with its own log and pid file.
start() {
  local name=$1
  shift
  if pid_alive "$name"; then return 0; fi
  setsid "$@" >>"$STACK_LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$STACK_RUN/$name.pid"
}

# wait_for NAME CHECK SECONDS: polls CHECK until it passes, the process dies, or time runs out.
wait_for() {
  local name=$1 check=$2 limit=$3 i
  for ((i = 0; i < limit * 10; i++)); do
    $check && return 0
    pid_alive "$name" || { tail -n 20 "$STACK_LOGS/$name.log" >&2; die "$name exited during start-up (log: $STACK_LOGS/$name.log)"; }
    sleep 0.1
  done
  tail -n 20 "$STACK_LOGS/$name.log" >&2
  die "$name not healthy after ${limit}s (log: $STACK_LOGS/$name.log)"
}

all_ok() { pid_alive redis && redis_ok && pid_alive livekit-server && livekit_ok && pid_alive livekit-sip && sip_ok; }

# ensure NAME CHECK PORT_VAR PORT SECONDS CMD...: starts NAME unless this checkout's copy already runs.
# Something else answering on its port (another checkout's stack, a system service) is an error:
# our credentials would not work there.
ensure() {
  local name=$1 check=$2 port_var=$3 port=$4 limit=$5
  shift 5
  if pid_alive "$name" && $check; then return 0; fi
  if ! pid_alive "$name" && $check; then
    die "port $port already answers but not from this checkout's $name: stop that process, or move this stack with $port_var=<port>"
  fi
  start "$name" "$@"
  wait_for "$name" "$check" "$limit"
}

cmd_up() {
  if [[ -f $STACK_CREDENTIALS ]] && all_ok; then
    say "already running (livekit ws://$STACK_HOST:$LIVEKIT_PORT, sip udp $STACK_HOST:$SIP_PORT, redis $STACK_HOST:$REDIS_PORT)"
    return 0
  fi
  local started=$SECONDS
  "$STACK_ROOT/scripts/stack/install.sh"
  ensure_credentials
  write_configs
  ensure redis redis_ok STACK_REDIS_PORT "$REDIS_PORT" 10 redis-server "$STACK_CONF/redis.conf"
  ensure livekit-server livekit_ok STACK_LIVEKIT_PORT "$LIVEKIT_PORT" 30 \
    "$STACK_BIN/server" --config "$STACK_CONF/livekit.yaml" --bind "$STACK_HOST"
  ensure livekit-sip sip_ok STACK_SIP_PORT "$SIP_PORT" 30 "$STACK_BIN/livekit-sip" --config "$STACK_CONF/sip.yaml"
  say "up in $((SECONDS - started)) s (livekit ws://$STACK_HOST:$LIVEKIT_PORT, sip udp $STACK_HOST:$SIP_PORT, redis $STACK_HOST:$REDIS_PORT; logs in $STACK_LOGS)"
}

stop() {
  local name=$1 pid i
  pid_alive "$name" || { rm -f "$STACK_RUN/$name.pid"; return 0; }
  pid=$(cat "$STACK_RUN/$name.pid")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
  rm -f "$STACK_RUN/$name.pid"
  say "stopped $name"
}

cmd_down() {
  stop livekit-sip
  stop livekit-server
  stop redis
}

cmd_status() {
  local rc=0
  if redis_ok; then say "redis          up   $STACK_HOST:$REDIS_PORT"; else say "redis          down"; rc=1; fi
  if livekit_ok; then say "livekit-server up   ws://$STACK_HOST:$LIVEKIT_PORT"; else say "livekit-server down"; rc=1; fi
  if sip_ok; then say "livekit-sip    up   udp $STACK_HOST:$SIP_PORT"; else say "livekit-sip    down"; rc=1; fi
  return $rc
}

cmd_env() {
  [[ -f $STACK_CREDENTIALS ]] || die "no stack credentials yet: run 'make stack-up' first"
  cat "$STACK_CREDENTIALS"
}

cmd_logs() {
  local f
  for f in "$STACK_LOGS"/*.log; do
    [[ -f $f ]] || continue
    echo "===== $f (last ${STACK_LOG_LINES:-200} lines)"
    tail -n "${STACK_LOG_LINES:-200}" "$f"
  done
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  logs) cmd_logs ;;
  install) "$STACK_ROOT/scripts/stack/install.sh" ;;
  *) die "usage: stack.sh up|down|status|env|logs|install" ;;
esac
