package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/floodgate/floodgate/internal/bytesize"
)

// isTerminal reports whether w is a character device: the progress bar
// is for people watching, never for a log file or a pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// progress redraws one line on w every interval until ctx ends: messages
// sent of total (total 0: unknown), the rate, and bytes written by the
// target when out is not nil.
func progress(ctx context.Context, w io.Writer, live *Counters, total int64, out func() int64) {
	begin := time.Now()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	draw := func() {
		n := live.Msgs.Load()
		el := time.Since(begin).Seconds()
		var bar string
		if total > 0 {
			const width = 30
			done := int(min(width, width*n/total))
			bar = "[" + strings.Repeat("=", done) + strings.Repeat(" ", width-done) + "] " + fmt.Sprintf("%3d%% ", 100*n/total)
		}
		written := ""
		if out != nil {
			written = ", written " + bytesize.Human(out())
		}
		fmt.Fprintf(w, "\r%s%d msgs, %s msg/s, sent %s%s\033[K", bar, n, countString(float64(n)/el), bytesize.Human(live.Bytes.Load()), written)
	}
	for {
		select {
		case <-ctx.Done():
			draw()
			fmt.Fprintln(w)
			return
		case <-t.C:
			draw()
		}
	}
}
