package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Accounting is what a target wrote, read back from its files: the
// "nothing is lost" sum of docs/output-format.md, for any daemon.
type Accounting struct {
	Files int64 `json:"files"`
	Bytes int64 `json:"bytes"`
	Lines int64 `json:"lines"`
	// Verbatim are lines that stand for one message each.
	Verbatim int64 `json:"verbatim"`
	// Summaries are lines that stand for Summarized messages not written:
	// floodgate's summary records and rsyslog's or syslog-ng's "repeated N
	// times" lines.
	Summaries  int64 `json:"summaries"`
	Summarized int64 `json:"summarized"`
	// Own are floodgate's records about itself (a flood starting, a
	// watermark crossed), which stand for no message received.
	Own int64 `json:"own"`
}

// Accounted is how many received messages the output stands for.
func (a Accounting) Accounted() int64 { return a.Verbatim + a.Summarized }

// Count reads every regular file under dirs (or the files themselves)
// and accounts its lines.
func Count(dirs ...string) (Accounting, error) {
	var a Accounting
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			return a.countFile(path)
		})
		if err != nil {
			return a, fmt.Errorf("count %s: %w", dir, err)
		}
	}
	return a, nil
}

func (a *Accounting) countFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	a.Files++
	r := bufio.NewReaderSize(f, 256<<10)
	var long []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long, chunk...)
			continue
		}
		line := chunk
		if long != nil {
			line = append(long, chunk...)
			long = nil
		}
		if len(line) > 0 {
			a.Bytes += int64(len(line))
			a.Lines++
			if n, ok := summaryCount(line); ok {
				a.Summaries++
				a.Summarized += n
			} else if ownRecord(line) {
				a.Own++
			} else {
				a.Verbatim++
			}
		}
		if err != nil {
			return nil // io.EOF, or a read error on a file being rotated away
		}
	}
}

var (
	tradSummary  = []byte("[floodgate kind=")
	sdSummary    = []byte("[floodgate@32473 ")
	jsonSummary  = []byte(`"summary"`)
	rsyslogRep   = []byte("message repeated ")
	syslogNGLast = []byte("Last message '")
)

// summaryCount recognises a line that stands for messages not written
// and returns how many: floodgate's summaries in its three formats,
// rsyslog's "message repeated N times: [...]" (and the legacy "last
// message repeated N times"), and syslog-ng's "Last message '...'
// repeated N times, suppressed by syslog-ng".
func summaryCount(line []byte) (int64, bool) {
	if i := bytes.Index(line, tradSummary); i >= 0 {
		return numberAfter(line[i:], []byte(" count="))
	}
	if i := bytes.Index(line, sdSummary); i >= 0 {
		return numberAfter(line[i:], []byte(` count="`))
	}
	if len(line) > 0 && line[0] == '{' && bytes.Contains(line, jsonSummary) {
		var rec struct {
			Summary *struct {
				Count int64 `json:"count"`
			} `json:"summary"`
		}
		if json.Unmarshal(line, &rec) == nil && rec.Summary != nil {
			return rec.Summary.Count, true
		}
		return 0, false
	}
	if i := bytes.Index(line, rsyslogRep); i >= 0 {
		return numberAfter(line[i:], rsyslogRep)
	}
	if i := bytes.Index(line, syslogNGLast); i >= 0 && bytes.Contains(line[i:], []byte("suppressed by syslog-ng")) {
		j := bytes.LastIndex(line, []byte("' repeated "))
		if j > i {
			return numberAfter(line[j:], []byte("' repeated "))
		}
	}
	return 0, false
}

// ownRecord reports whether line is one of floodgate's own records: app
// floodgate in the traditional or RFC 5424 format, or a JSON record with
// an event field.
func ownRecord(line []byte) bool {
	if len(line) > 0 && line[0] == '{' {
		return bytes.Contains(line, []byte(`"event":`))
	}
	f := bytes.Fields(line)
	if len(f) > 4 && len(line) > 0 && line[0] == '<' {
		return string(f[3]) == "floodgate" // <PRI>1 TIME HOST APP
	}
	if len(f) > 4 {
		tag := f[4] // Mon DD HH:MM:SS HOST TAG
		return bytes.Equal(tag, []byte("floodgate:")) || bytes.HasPrefix(tag, []byte("floodgate["))
	}
	return false
}

// numberAfter parses the decimal that follows the first key in b.
func numberAfter(b, key []byte) (int64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	b = b[i+len(key):]
	var n int64
	j := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		n = n*10 + int64(b[j]-'0')
		j++
	}
	return n, j > 0
}
