package forward

import (
	"time"

	"github.com/floodgate/floodgate/relay/output"
)

// The suppressed summary a network output writes for what it dropped.
const (
	lostFP     = "queue-full"
	lostReason = "queue full"
)

// newLosses returns the count of what a network output drops.
func newLosses() *output.Losses { return output.NewLosses(lostFP, lostReason, "forward") }

// addLoss counts it as dropped in l.
func addLoss(l *output.Losses, it *item) {
	if it.msgs == 0 {
		return // floodgate's own record stands for no message received
	}
	l.Add(it.host, it.app, it.msgs, int64(len(it.data)),
		time.Unix(0, it.first).UTC(), time.Unix(0, it.last).UTC(), it.facility, it.severity)
}
