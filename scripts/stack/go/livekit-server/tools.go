//go:build tools

// Package tools pins livekit-server for scripts/stack/install.sh.
package tools

import _ "github.com/livekit/livekit-server/cmd/server"
