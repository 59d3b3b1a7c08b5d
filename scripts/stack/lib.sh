# Shared settings of the local LiveKit telephony stack (sourced by the other scripts in this folder).
# Everything listens on 127.0.0.1; every port can be moved with the variable named beside it.

STACK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_DIR="${STACK_DIR:-$STACK_ROOT/.stack}"
STACK_BIN="$STACK_DIR/bin"
STACK_CONF="$STACK_DIR/conf"
STACK_LOGS="$STACK_DIR/logs"
STACK_RUN="$STACK_DIR/run"
STACK_DATA="$STACK_DIR/data"
STACK_CREDENTIALS="$STACK_DIR/credentials.env"

STACK_HOST=127.0.0.1
LIVEKIT_PORT="${STACK_LIVEKIT_PORT:-7880}"         # HTTP + websocket signalling
LIVEKIT_RTC_TCP_PORT="${STACK_LIVEKIT_TCP_PORT:-7881}"
LIVEKIT_RTC_UDP_PORT="${STACK_LIVEKIT_UDP_PORT:-7882}"
REDIS_PORT="${STACK_REDIS_PORT:-6390}"              # not 6379: a system redis may already own that
SIP_PORT="${STACK_SIP_PORT:-5060}"
SIP_RTP_START="${STACK_SIP_RTP_START:-20000}"
SIP_RTP_END="${STACK_SIP_RTP_END:-20199}"

# Versions: keep the two LiveKit pieces paired (scripts/stack/go/*/go.mod pin them).
LIVEKIT_SERVER_VERSION=v1.13.5
LIVEKIT_SIP_VERSION=v1.8.0

# chromium (and a font with Arabic letters) runs the web page end to end (test/e2e/web.test.ts).
DEBIAN_PACKAGES=(redis-server sip-tester tcpdump sox flite pkg-config libopus-dev libopusfile-dev libsoxr-dev chromium fonts-dejavu-core)

say() { printf 'stack: %s\n' "$*"; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }

pid_alive() { # pid_alive NAME -> 0 when the pid file names a live process
  local f="$STACK_RUN/$1.pid"
  [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

redis_ok() { redis-cli -h "$STACK_HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
livekit_ok() { [[ $(curl -s -m 1 "http://$STACK_HOST:$LIVEKIT_PORT/" 2>/dev/null) == OK ]]; }
sip_ok() { ss -Hlun "sport = :$SIP_PORT" 2>/dev/null | grep -q "$STACK_HOST:$SIP_PORT"; }
