package format_test

import (
	"fmt"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/relay/output/format"
)

func ExampleAppend() {
	t0 := time.Date(2018, 9, 9, 10, 2, 37, 0, time.UTC)
	r := floodgate.Record{
		Message: floodgate.Message{Time: t0.Add(30 * time.Second), Host: "ip-10-18-39-127", App: "dockerd", ProcID: "12436",
			Facility: 3, Severity: floodgate.Info, Text: "last message repeated 2646 times"},
		Summary: &floodgate.Summary{Kind: floodgate.Repeat, FP: "9c41e0a7", Count: 2646, First: t0, Last: t0.Add(30 * time.Second)},
	}
	buf := make([]byte, 0, 512) // reused for every record
	for _, f := range []format.Format{format.Traditional, format.RFC5424, format.JSON} {
		buf = format.Append(buf[:0], f, &r)
		fmt.Print(string(buf))
	}
	// Output:
	// Sep  9 10:03:07 ip-10-18-39-127 dockerd[12436]: [floodgate kind=repeat fp=9c41e0a7 count=2646 first=2018-09-09T10:02:37Z last=2018-09-09T10:03:07Z] last message repeated 2646 times
	// <30>1 2018-09-09T10:03:07Z ip-10-18-39-127 dockerd 12436 - [floodgate@32473 kind="repeat" fp="9c41e0a7" count="2646" first="2018-09-09T10:02:37Z" last="2018-09-09T10:03:07Z"] last message repeated 2646 times
	// {"time":"2018-09-09T10:03:07Z","host":"ip-10-18-39-127","app":"dockerd","procid":"12436","facility":"daemon","severity":"info","msg":"last message repeated 2646 times","summary":{"kind":"repeat","fp":"9c41e0a7","count":2646,"first":"2018-09-09T10:02:37Z","last":"2018-09-09T10:03:07Z"}}
}
