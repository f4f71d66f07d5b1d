package format

import (
	"bytes"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/bench/gen"
	"github.com/floodgate/floodgate/internal/cputime"
	"github.com/floodgate/floodgate/relay/parse"
)

// chatRecords are the records of bench/gen's chat, parsed as the relay
// parses them: unique lines of free text, the traffic nothing folds.
func chatRecords(tb testing.TB, n int) []floodgate.Record {
	var w bytes.Buffer
	if _, _, err := gen.Write(&w, gen.NewChat(1, n), gen.RFC3164); err != nil {
		tb.Fatal(err)
	}
	p := parse.New(parse.Options{Location: time.UTC})
	var recs []floodgate.Record
	for _, line := range bytes.Split(bytes.TrimSuffix(w.Bytes(), []byte("\n")), []byte("\n")) {
		var r floodgate.Record
		p.Parse(line, time.Date(2018, 9, 11, 2, 0, 0, 0, time.UTC), &r.Message)
		recs = append(recs, r)
	}
	return recs
}

// BenchmarkChat renders chat lines, unique free text, in the traditional
// format (the relay's default) and in RFC 5424.
func BenchmarkChat(b *testing.B) {
	recs := chatRecords(b, 4096)
	for _, f := range []Format{Traditional, RFC5424} {
		b.Run(f.String(), func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			defer cputime.PerOp(b)()
			n := 0
			for b.Loop() {
				buf = Append(buf[:0], f, &recs[n%len(recs)])
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
