package relay

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/coreos/go-systemd/v22/activation"

	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/relay/input"
)

// inherited holds the sockets systemd passed this process (socket
// activation: LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES), by the
// FileDescriptorName= of their socket unit. They are taken from the
// environment once, which is then cleared so that no child process sees
// them, and kept open for the life of the process: an input works on a
// duplicate, so one restarted takes the same socket again.
var inherited struct {
	once  sync.Once
	files map[string][]*os.File
	mu    sync.Mutex
	taken map[string]bool
}

func inheritedSockets() map[string][]*os.File {
	inherited.once.Do(func() {
		inherited.files = activation.FilesWithNames()
		inherited.taken = map[string]bool{}
	})
	return inherited.files
}

// inputOptions returns ic's options, with the socket systemd passed under
// its fd_name.
func inputOptions(ic config.Input) (input.Options, error) {
	o := ic.Options()
	if ic.FDName == "" {
		return o, nil
	}
	files := inheritedSockets()
	fs := files[ic.FDName]
	switch len(fs) {
	case 0:
		have := "none"
		if len(files) > 0 {
			have = strings.Join(slices.Sorted(maps.Keys(files)), ", ")
		}
		return o, fmt.Errorf("input %s: fd_name %q: systemd passed no socket of that name (passed: %s); is the socket unit's FileDescriptorName= that name, and is the service started through it?", ic.Name, ic.FDName, have)
	case 1:
	default:
		return o, fmt.Errorf("input %s: fd_name %q: systemd passed %d sockets of that name: give each its own FileDescriptorName= (one socket unit each)", ic.Name, ic.FDName, len(fs))
	}
	inherited.mu.Lock()
	inherited.taken[ic.FDName] = true
	inherited.mu.Unlock()
	o.File = fs[0]
	return o, nil
}

// warnUnclaimedSockets logs the sockets systemd passed that no input
// takes: what is sent to them is never read.
func (s *Server) warnUnclaimedSockets() {
	files := inheritedSockets()
	inherited.mu.Lock()
	defer inherited.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if !inherited.taken[name] {
			s.log.Warn("systemd passed a socket that no input takes: add an [[input]] with this fd_name", "fd_name", name, "sockets", len(files[name]))
		}
	}
}
