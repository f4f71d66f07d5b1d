package input_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/floodgate/floodgate/relay/input"
)

// A capture mixes framings line by line, as `floodgate replay` reads it:
// a bare traditional line, an octet-counted frame whose message spans two
// lines, and a line with <PRI>.
func ExampleReadStream() {
	capture := "Sep  9 10:02:37 web1 app[1]: plain line\n" +
		"51 <13>1 2026-11-27T10:02:37Z web1 app - - - two\nlines" +
		"<13>Sep  9 10:02:38 web1 app[1]: with pri\r\n"
	sink := input.SinkFunc(func(b *input.Batch) {
		for _, f := range b.Frames {
			fmt.Printf("%s: %q\n", b.Input, f)
		}
	})
	if err := input.ReadStream(context.Background(), strings.NewReader(capture), "replay", 0, sink, nil); err != nil {
		fmt.Println(err)
	}
	// Output:
	// replay: "Sep  9 10:02:37 web1 app[1]: plain line"
	// replay: "<13>1 2026-11-27T10:02:37Z web1 app - - - two\nlines"
	// replay: "<13>Sep  9 10:02:38 web1 app[1]: with pri"
}

// With a maximum of 8 bytes, an oversize line is cut at the maximum and
// the rest of it skipped; an oversize octet-counted frame is delivered as
// its first bytes, for its header (the relay counts it in a suppressed
// summary), and the rest skipped unread; the stream carries on after each.
func ExampleFramer() {
	f := input.NewFramer(strings.NewReader("a line too long\n12 <13>counted\nok\n"), 8)
	var st input.Stats
	f.SetStats(&st)
	for {
		frame, err := f.Next()
		if err != nil {
			break
		}
		fmt.Printf("%q\n", frame)
	}
	fmt.Println("truncated:", st.Truncated.Load(), "skipped:", st.OversizeSkipped.Load())
	// Output:
	// "a line t"
	// "<13>coun"
	// "ok"
	// truncated: 1 skipped: 1
}
