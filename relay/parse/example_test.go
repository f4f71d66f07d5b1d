package parse_test

import (
	"fmt"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/relay/parse"
)

func ExampleParser_Parse() {
	p := parse.New(parse.Options{Location: time.UTC})
	received := time.Date(2018, 9, 10, 0, 0, 0, 0, time.UTC)
	var m floodgate.Message
	for _, line := range []string{
		"Sep  9 10:02:37 ip-10-18-39-127 dockerd[12436]: #011/usr/local/go/src/os/file_unix.go:97 +0x80",
		"<13>1 2018-09-09T10:02:38.5Z myhost root - - [timeQuality tzKnown=\"1\" isSynced=\"0\"] hello",
		"not syslog at all",
	} {
		p.Parse([]byte(line), received, &m)
		fmt.Printf("%s %s/%s[%s] %s.%s %q\n", m.Time.Format(time.RFC3339Nano), m.Host, m.App, m.ProcID, m.Facility, m.Severity, m.Text)
	}
	// Output:
	// 2018-09-09T10:02:37Z ip-10-18-39-127/dockerd[12436] user.notice "#011/usr/local/go/src/os/file_unix.go:97 +0x80"
	// 2018-09-09T10:02:38.5Z myhost/root[] user.notice "hello"
	// 2018-09-10T00:00:00Z -/-[] user.notice "not syslog at all"
}
