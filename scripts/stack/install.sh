#!/usr/bin/env bash
# Installs what the local stack needs, and only what is missing:
#   - Debian packages (redis, SIPp, tcpdump, sox, flite, the cgo libraries livekit-sip links, and chromium for the web page tests);
#   - livekit-server and livekit-sip, built with `go install` into .stack/bin (git-ignored).
# A second run finds everything in place and returns at once. Installed binaries are never rebuilt
# unless their pinned version changes (a stamp file beside them records it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_debian_packages() {
  local missing=() p
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null || die "apt-get not found: install these Debian packages yourself: ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "installing ${missing[*]} needs root (run as root or install sudo)"
    sudo=(sudo)
  fi
  say "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# go_install NAME VERSION PACKAGE: builds PACKAGE from the pinned module in scripts/stack/go/NAME.
go_install() {
  local name=$1 version=$2 pkg=$3 bin=$4
  local stamp="$STACK_BIN/.$bin.version"
  if [[ -x $STACK_BIN/$bin && -f $stamp && $(cat "$stamp") == "$version" ]]; then
    return 0
  fi
  command -v go >/dev/null || die "go not found: install Go >= 1.26 (https://go.dev/doc/install) to build $name $version"
  say "building $name $version (first time only; a few minutes on 2 cores)"
  local started=$SECONDS
  mkdir -p "$STACK_BIN"
  (cd "$STACK_ROOT/scripts/stack/go/$name" && GOFLAGS=-buildvcs=false GOBIN="$STACK_BIN" go install "$pkg") \
    || die "go install $pkg ($name $version) failed; see the Go output above"
  echo "$version" >"$stamp"
  say "built $name in $((SECONDS - started)) s"
}

install_debian_packages
go_install livekit-server "$LIVEKIT_SERVER_VERSION" github.com/livekit/livekit-server/cmd/server server
go_install livekit-sip "$LIVEKIT_SIP_VERSION" github.com/livekit/sip/cmd/livekit-sip livekit-sip
