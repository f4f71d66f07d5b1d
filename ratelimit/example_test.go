package ratelimit_test

import (
	"fmt"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/ratelimit"
)

// A source sends 1 KiB lines into a budget of 2 KiB at once and 1 KiB/s:
// two pass, the rest are counted, an error passes on its own budget, and
// the final tick reports what was dropped.
func Example() {
	show := floodgate.HandlerFunc(func(_ time.Time, r *floodgate.Record) {
		if r.Summary != nil {
			fmt.Printf("summary %s count=%d: %s\n", r.Summary.Kind, r.Summary.Count, r.Text)
			return
		}
		fmt.Printf("%s %s/%s: %s\n", r.Severity, r.Host, r.App, r.Text)
	})
	b := ratelimit.New(ratelimit.Options{Rate: 1 << 10, Burst: 2 << 10, Protect: floodgate.Err}, show)
	now := time.Date(2018, 9, 9, 10, 2, 37, 0, time.UTC)
	for i := range 5 {
		b.Handle(now, &floodgate.Record{Message: floodgate.Message{
			Time: now, Host: "master-1", App: "dockerd", Severity: floodgate.Info,
			Text: fmt.Sprintf("goroutine %d [runnable]:", 2648+i), Size: 1 << 10,
		}})
	}
	b.Handle(now, &floodgate.Record{Message: floodgate.Message{
		Time: now, Host: "master-1", App: "dockerd", Severity: floodgate.Err,
		Text: "Cannot connect to the Docker daemon", Size: 1 << 10,
	}})
	b.Tick(now, true)
	// Output:
	// info master-1/dockerd: goroutine 2648 [runnable]:
	// info master-1/dockerd: goroutine 2649 [runnable]:
	// err master-1/dockerd: Cannot connect to the Docker daemon
	// summary suppressed count=3: dropped 3 messages (3.0 KiB) from master-1/dockerd over budget 1KiB/s burst 2KiB; sample: goroutine 2650 [runnable]:
}
