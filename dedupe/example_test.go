package dedupe_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/dedupe"
)

// printer prints what reaches the end of the chain.
type printer struct{}

func (printer) Handle(_ time.Time, r *floodgate.Record) {
	if r.Summary != nil {
		fmt.Printf("summary kind=%s count=%d: %s\n", r.Summary.Kind, r.Summary.Count, r.Text)
		return
	}
	fmt.Printf("%s[%s]: %s\n", r.App, r.ProcID, r.Text)
}

func (printer) Tick(time.Time, bool) {}

// A goroutine dump: the first goroutine of a stack is written whole, the
// others with the same stack are counted, with their states.
func Example() {
	e := dedupe.New(dedupe.DefaultOptions(), printer{})
	now := time.Date(2018, 9, 9, 10, 2, 37, 0, time.UTC)
	for i, state := range []string{"runnable", "runnable", "chan receive, 12 minutes", "runnable"} {
		for _, text := range []string{
			fmt.Sprintf("goroutine %d [%s]:", 2648+i, state),
			fmt.Sprintf("os.OpenFile(0xc4573256%02x, 0x78, 0xc2)", i),
			"#011/usr/local/go/src/os/file_unix.go:97 +0x80",
		} {
			e.Handle(now, &floodgate.Record{Message: floodgate.Message{Time: now, Host: "node", App: "dockerd", ProcID: "12436", Text: text}})
		}
	}
	e.Tick(now, true)
	// Output:
	// dockerd[12436]: goroutine 2648 [runnable]:
	// dockerd[12436]: os.OpenFile(0xc457325600, 0x78, 0xc2)
	// dockerd[12436]: #011/usr/local/go/src/os/file_unix.go:97 +0x80
	// dockerd[12436]: goroutine 2650 [chan receive, 12 minutes]:
	// dockerd[12436]: os.OpenFile(0xc457325602, 0x78, 0xc2)
	// dockerd[12436]: #011/usr/local/go/src/os/file_unix.go:97 +0x80
	// summary kind=block count=6: 2 more goroutines with the same stack as goroutine 2648 (runnable 2)
}

// Template shows what the masker keeps of a line: its words, never its
// numbers, addresses or ids.
func ExampleTemplate() {
	fmt.Println(dedupe.Template("Accepted publickey for core from 10.0.3.7 port 51234 ssh2"))
	fmt.Println(dedupe.Template("goroutine 2650 [chan receive, 12 minutes]:"))
	// Output:
	// Accepted publickey for core from # port # ssh#
	// goroutine # [chan receive, # minutes]:
}

// TestDefaultOptionsMatchConfig keeps the engine's defaults and the
// config's defaults for [dedupe] the same.
func TestDefaultOptionsMatchConfig(t *testing.T) {
	d := config.Default().Dedupe
	want := dedupe.Options{
		Window:         d.Window.D(),
		Flush:          d.Flush.D(),
		FlushMax:       d.FlushMax.D(),
		BlockIdle:      d.BlockIdle.D(),
		MaxPatterns:    d.MaxPatterns,
		BlockMaxLines:  d.BlockMaxLines,
		BlockMaxBytes:  int(d.BlockMaxBytes),
		Repeats:        d.Repeats,
		Blocks:         d.Blocks,
		Cycles:         d.Cycles,
		CycleMaxPeriod: d.CycleMaxPeriod,
	}
	got := dedupe.DefaultOptions()
	got.OnRestartLoop = nil
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("DefaultOptions() = %+v, config defaults %+v", got, want)
	}
}
