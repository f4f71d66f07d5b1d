package config

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"github.com/floodgate/floodgate/relay/output"
	"github.com/floodgate/floodgate/relay/output/forward"
)

// Output is one [[output]]: where records are written.
type Output struct {
	// Type is "file", "stdout", "forward" (syslog to an upstream
	// receiver) or "kafka".
	Type string `toml:"type"`
	// Path is the file path, with placeholders {host} {app} {facility}
	// {severity} {date}, relative to the working directory.
	Path string `toml:"path"`
	// Format is "traditional" (the default), "rfc5424" or "json".
	Format string `toml:"format"`
	// EscapeControl writes control characters in the traditional and
	// RFC 5424 formats as rsyslog's #ooo escapes (TAB as #011), so that
	// reading a file on a terminal never runs a sender's escape sequences.
	// Unset is true; false writes them as received. JSON always escapes.
	EscapeControl *bool `toml:"escape_control"`

	// MaxSize rotates a file when it would grow past this; 0 never.
	MaxSize Size `toml:"max_size"`
	// MaxFiles is how many rotated files to keep per file.
	MaxFiles int `toml:"max_files"`
	// Compress gzips rotated files.
	Compress bool `toml:"compress"`
	// MaxTotal bounds the bytes really on disk under the output's
	// directory; the oldest rotated files, across every source, go first.
	// 0: no bound.
	MaxTotal Size `toml:"max_total"`
	// MinFree is the low watermark of free space: below it only protected
	// messages and summaries are written.
	MinFree Space `toml:"min_free"`
	// HardMinFree is the hard watermark: below it nothing is written, and
	// everything is counted.
	HardMinFree Space `toml:"hard_min_free"`
	// MaxOpenFiles caps open file handles (least recently used close first).
	MaxOpenFiles int `toml:"max_open_files"`
	// MaxBuffer bounds the bytes of records the output holds in memory,
	// above all while writes fail (disk full, I/O errors): past it new
	// records are dropped, counted per source, and stood for by a
	// suppressed summary once writing works again.
	MaxBuffer Size `toml:"max_buffer"`
	// MaxFilesTotal caps the current files a file output writes at once;
	// past it messages of new sources go to a shared overflow file (the
	// path with {host} and {app} replaced by "_overflow").
	MaxFilesTotal int `toml:"max_files_total"`
	// FileIdle is how long a file goes unwritten before it frees its place
	// among max_files_total.
	FileIdle Duration `toml:"file_idle"`

	// Address is the upstream syslog receiver of a forward output,
	// host:port.
	Address string `toml:"address"`
	// Protocol is "tcp" (the default) or "tls" (for forward, RFC 5425).
	Protocol string `toml:"protocol"`
	// CA, Cert and Key are PEM files: the certificates that may sign the
	// upstream's (default: the system's), and a client certificate for
	// mutual TLS. ServerName is the name the upstream's certificate must
	// carry (default: the host of Address, or of each Kafka broker).
	CA         string `toml:"ca"`
	Cert       string `toml:"cert"`
	Key        string `toml:"key"`
	ServerName string `toml:"server_name"`
	// Brokers and Topic are where a kafka output produces.
	Brokers []string `toml:"brokers"`
	Topic   string   `toml:"topic"`
	// QueueDir is where a network output spills what memory cannot hold,
	// kept across restarts; "" drops and counts it instead.
	QueueDir string `toml:"queue_dir"`
	// QueueMax bounds the bytes waiting in QueueDir.
	QueueMax Size `toml:"queue_max"`
	// ReconnectMin and ReconnectMax bound the backoff between attempts
	// to reach the upstream.
	ReconnectMin Duration `toml:"reconnect_min"`
	ReconnectMax Duration `toml:"reconnect_max"`
	// Timeout bounds a connect, a handshake, a write, and the wait for an
	// acknowledgement.
	Timeout Duration `toml:"timeout"`
	// CloseTimeout is how long shutdown keeps sending to an upstream that
	// is up before the rest spills to QueueDir.
	CloseTimeout Duration `toml:"close_timeout"`
}

// ForwardOptions returns the options of a network output (type "forward"
// or "kafka").
func (o *Output) ForwardOptions() forward.Options {
	return forward.Options{
		Type:         o.Type,
		Address:      o.Address,
		Protocol:     o.Protocol,
		CA:           o.CA,
		Cert:         o.Cert,
		Key:          o.Key,
		ServerName:   o.ServerName,
		Brokers:      o.Brokers,
		Topic:        o.Topic,
		MaxBuffer:    int64(o.MaxBuffer),
		QueueDir:     o.QueueDir,
		QueueMax:     int64(o.QueueMax),
		ReconnectMin: o.ReconnectMin.D(),
		ReconnectMax: o.ReconnectMax.D(),
		Timeout:      o.Timeout.D(),
		CloseTimeout: o.CloseTimeout.D(),
	}
}

// RawControl reports whether the output writes control characters as
// received: escape_control = false.
func (o *Output) RawControl() bool { return o.EscapeControl != nil && !*o.EscapeControl }

// Output formats.
var formats = []string{"traditional", "rfc5424", "json"}

// fill takes what the output leaves unset from output's own defaults.
func (o *Output) fill() {
	d := output.DefaultOptions()
	if forward.Handles(o.Type) {
		o.fillNetwork()
	}
	if o.Format == "" {
		o.Format = d.Format
	}
	if o.MaxSize == 0 && o.Type == "file" {
		o.MaxSize = Size(d.MaxSize)
	}
	if o.MaxFiles == 0 {
		o.MaxFiles = d.MaxFiles
	}
	if o.MaxOpenFiles == 0 {
		o.MaxOpenFiles = d.MaxOpenFiles
	}
	if o.MaxBuffer == 0 {
		o.MaxBuffer = Size(d.MaxBuffer)
	}
	if o.MaxFilesTotal == 0 {
		o.MaxFilesTotal = d.MaxFilesTotal
	}
	if o.FileIdle == 0 {
		o.FileIdle = Duration(d.FileIdle)
	}
	if o.MinFree.IsZero() {
		o.MinFree = Space{Bytes: Size(d.MinFree.Bytes), Percent: d.MinFree.Percent}
	}
	if o.HardMinFree.IsZero() {
		o.HardMinFree = Space{Bytes: Size(d.HardMinFree.Bytes), Percent: d.HardMinFree.Percent}
	}
}

// fillNetwork takes what a network output leaves unset from package
// forward's defaults: its format is fixed by its type.
func (o *Output) fillNetwork() {
	d := forward.DefaultOptions()
	if o.Format == "" {
		o.Format = networkFormat(o.Type)
	}
	if o.Protocol == "" {
		o.Protocol = d.Protocol
	}
	if o.MaxBuffer == 0 {
		o.MaxBuffer = Size(d.MaxBuffer)
	}
	if o.QueueMax == 0 {
		o.QueueMax = Size(d.QueueMax)
	}
	if o.ReconnectMin == 0 {
		o.ReconnectMin = Duration(d.ReconnectMin)
	}
	if o.ReconnectMax == 0 {
		o.ReconnectMax = Duration(d.ReconnectMax)
	}
	if o.Timeout == 0 {
		o.Timeout = Duration(d.Timeout)
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = Duration(d.CloseTimeout)
	}
}

// networkFormat is the one format a network output sends in: RFC 5424
// to a syslog receiver, JSON to Kafka.
func networkFormat(typ string) string {
	if typ == forward.TypeKafka {
		return "json"
	}
	return "rfc5424"
}

// validateNetwork checks the keys of a forward or kafka output.
func (o *Output) validateNetwork(v *validator, at string) {
	if want := networkFormat(o.Type); o.Format != want {
		v.add(at+".format", "%q: a %s output sends %s", o.Format, o.Type, want)
	}
	switch o.Type {
	case forward.TypeForward:
		if o.Address == "" {
			v.add(at+".address", "missing: want the upstream receiver as host:port")
		} else if _, _, err := net.SplitHostPort(o.Address); err != nil {
			v.add(at+".address", "%q: want host:port", o.Address)
		}
		if len(o.Brokers) > 0 || o.Topic != "" {
			v.add(at+".brokers", "brokers and topic belong to a kafka output")
		}
	case forward.TypeKafka:
		if len(o.Brokers) == 0 {
			v.add(at+".brokers", "missing: want a list of host:port")
		}
		for _, b := range o.Brokers {
			if _, _, err := net.SplitHostPort(b); err != nil {
				v.add(at+".brokers", "%q: want host:port", b)
			}
		}
		if o.Topic == "" {
			v.add(at+".topic", "missing: want the topic to produce to")
		}
		if o.Address != "" {
			v.add(at+".address", "a kafka output takes brokers, not an address")
		}
	}
	switch o.Protocol {
	case "tcp":
		for _, kv := range [][2]string{{"ca", o.CA}, {"cert", o.Cert}, {"key", o.Key}, {"server_name", o.ServerName}} {
			if kv[1] != "" {
				v.add(at+"."+kv[0], "set with protocol \"tcp\": want protocol = \"tls\"")
			}
		}
	case "tls":
	default:
		v.add(at+".protocol", "%q: want \"tcp\" or \"tls\"", o.Protocol)
	}
	if (o.Cert == "") != (o.Key == "") {
		v.add(at+".cert", "cert and key go together: set both or neither")
	}
	if o.Path != "" {
		v.add(at+".path", "a %s output writes no file", o.Type)
	}
	if o.RawControl() {
		v.add(at+".escape_control", "false: a %s output always escapes control characters", o.Type)
	}
	if o.MaxBuffer < 64<<10 {
		v.add(at+".max_buffer", "%s: want at least 64KiB", o.MaxBuffer)
	}
	if o.QueueDir != "" && o.QueueMax < 1<<20 {
		v.add(at+".queue_max", "%s: want at least 1MiB", o.QueueMax)
	}
	if o.ReconnectMin <= 0 || o.ReconnectMax < o.ReconnectMin {
		v.add(at+".reconnect_max", "%s is smaller than reconnect_min %s", o.ReconnectMax, o.ReconnectMin)
	}
	if o.Timeout <= 0 {
		v.add(at+".timeout", "%s: want more than 0", o.Timeout)
	}
}

func (o *Output) validate(v *validator, at string) {
	if forward.Handles(o.Type) {
		o.validateNetwork(v, at)
		return
	}
	if o.Address != "" || len(o.Brokers) > 0 || o.QueueDir != "" {
		v.add(at+".type", "%q writes locally: address, brokers and queue_dir belong to a forward or kafka output", o.Type)
	}
	switch o.Type {
	case "file":
		if o.Path == "" {
			v.add(at+".path", "missing: want a file path such as \"logs/{host}/{app}.log\"")
		}
		for rest := o.Path; ; {
			i := strings.IndexByte(rest, '{')
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				v.add(at+".path", "%q has an unclosed {", o.Path)
				break
			}
			switch ph := rest[i+1 : i+j]; ph {
			case "host", "app", "facility", "severity", "date":
			default:
				v.add(at+".path", "unknown placeholder {%s}: want {host} {app} {facility} {severity} {date}", ph)
			}
			rest = rest[i+j+1:]
		}
	case "stdout":
	case "":
		v.add(at+".type", "missing: want \"file\", \"stdout\", \"forward\" or \"kafka\"")
	default:
		v.add(at+".type", "%q: want \"file\", \"stdout\", \"forward\" or \"kafka\"", o.Type)
	}
	ok := false
	for _, f := range formats {
		ok = ok || o.Format == f
	}
	if !ok {
		v.add(at+".format", "%q: want \"traditional\", \"rfc5424\" or \"json\"", o.Format)
	}
	if o.MaxFiles < 0 {
		v.add(at+".max_files", "%d: want 0 or more", o.MaxFiles)
	}
	if o.MaxOpenFiles < 1 {
		v.add(at+".max_open_files", "%d: want at least 1", o.MaxOpenFiles)
	}
	if o.MaxFilesTotal < 1 {
		v.add(at+".max_files_total", "%d: want at least 1", o.MaxFilesTotal)
	}
	if o.FileIdle < 0 {
		v.add(at+".file_idle", "%s: want more than 0", o.FileIdle)
	}
	if o.MaxBuffer != 0 && o.MaxBuffer < 64<<10 {
		v.add(at+".max_buffer", "%s: want at least 64KiB", o.MaxBuffer)
	}
	if o.MaxTotal != 0 && o.MaxSize != 0 && o.MaxTotal < o.MaxSize {
		v.add(at+".max_total", "%s is smaller than max_size %s", o.MaxTotal, o.MaxSize)
	}
}

// validateQueueDirs checks that no two network outputs share a queue_dir:
// each holds its directory alone.
func validateQueueDirs(v *validator, outs []Output) {
	seen := map[string]int{}
	for i, o := range outs {
		if o.QueueDir == "" || !forward.Handles(o.Type) {
			continue
		}
		dir := filepath.Clean(o.QueueDir)
		if j, ok := seen[dir]; ok {
			v.add(fmt.Sprintf("output[%d].queue_dir", i), "%q is output[%d]'s already: want one directory per output", o.QueueDir, j)
			continue
		}
		seen[dir] = i
	}
}
