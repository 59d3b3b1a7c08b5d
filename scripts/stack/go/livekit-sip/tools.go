//go:build tools

// Package tools pins livekit-sip for scripts/stack/install.sh.
package tools

import _ "github.com/livekit/sip/cmd/livekit-sip"
