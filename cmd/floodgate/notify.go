package main

import (
	"log/slog"
	"strings"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// What sdNotify tells systemd.
const (
	notifyReady    = sd.SdNotifyReady    // every input is bound; a reload is done
	notifyStopping = sd.SdNotifyStopping // shutdown (the drain) begins
)

// notifyReloading says a reload (SIGHUP) begins, with the time systemd
// wants beside it (systemd 253 on); SdNotifyMonotonicUsec ends in a
// newline of its own.
func notifyReloading() string {
	return sd.SdNotifyReloading + "\n" + sd.SdNotifyMonotonicUsec()
}

// sdNotify tells systemd the relay's state (Type=notify): READY=1 once
// every input is bound, RELOADING=1 with MONOTONIC_USEC while a SIGHUP is
// handled and READY=1 again after, STOPPING=1 when shutdown begins.
// Without NOTIFY_SOCKET (not run by systemd) it does nothing; the
// variable stays set for the next call.
func sdNotify(log *slog.Logger, state ...string) {
	if _, err := sd.SdNotify(false, strings.Join(state, "\n")); err != nil {
		log.Warn("sd_notify failed", "state", strings.Join(state, " "), "err", err)
	}
}
