package parse

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/golden"

	"github.com/floodgate/floodgate"
)

// received is the fixed receive time of the tests: the seed capture is of
// September 2018 and its last line of Sep 11 01:24, so its lines get 2018.
var received = time.Date(2018, 9, 12, 0, 0, 0, 0, time.UTC)

var formatNames = [...]string{
	floodgate.Unparsed:          "unparsed",
	floodgate.SyntaxRFC3164:     "rfc3164",
	floodgate.SyntaxRFC5424:     "rfc5424",
	floodgate.SyntaxTraditional: "traditional",
	floodgate.Internal:          "internal",
}

// render prints m as one line of JSON-ish text; strings are Go-quoted so
// that invalid UTF-8 and control bytes show as they are.
func render(m *floodgate.Message) string {
	return fmt.Sprintf("{time: %s, host: %s, app: %s, procid: %s, msgid: %s, facility: %s, severity: %s, format: %s, sd: %s, size: %d, text: %s}",
		m.Time.Format(time.RFC3339Nano), strconv.Quote(m.Host), strconv.Quote(m.App), strconv.Quote(m.ProcID),
		strconv.Quote(m.MsgID), m.Facility, m.Severity, formatNames[m.Syntax], strconv.Quote(m.StructuredData),
		m.Size, strconv.Quote(m.Text))
}

// lines splits a capture into frames as a line framing would: on LF,
// keeping a CR for Parse to trim.
func lines(b []byte) [][]byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) == 0 {
		return nil
	}
	return bytes.Split(b, []byte("\n"))
}

func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/input.log")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			input, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			p := New(Options{Location: time.UTC})
			var got bytes.Buffer
			for _, frame := range lines(input) {
				var m floodgate.Message
				p.Parse(frame, received, &m)
				got.WriteString(render(&m))
				got.WriteByte('\n')
			}
			golden.Check(t, filepath.Join(dir, "want.golden"), got.Bytes())
		})
	}
}
