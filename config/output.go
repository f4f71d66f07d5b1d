package config

import (
	"strings"

	"github.com/floodgate/floodgate/relay/output"
)

// Output is one [[output]]: where records are written.
type Output struct {
	// Type is "file" or "stdout".
	Type string `toml:"type"`
	// Path is the file path, with placeholders {host} {app} {facility}
	// {severity} {date}, relative to the working directory.
	Path string `toml:"path"`
	// Format is "traditional" (the default), "rfc5424" or "json".
	Format string `toml:"format"`

	// MaxSize rotates a file when it would grow past this; 0 never.
	MaxSize Size `toml:"max_size"`
	// MaxFiles is how many rotated files to keep per file.
	MaxFiles int `toml:"max_files"`
	// Compress gzips rotated files.
	Compress bool `toml:"compress"`
	// MaxTotal bounds all files under the output's directory; the oldest
	// rotated files go first. 0: no bound.
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
}

// Output formats.
var formats = []string{"traditional", "rfc5424", "json"}

// fill takes what the output leaves unset from output's own defaults.
func (o *Output) fill() {
	d := output.DefaultOptions()
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
	if o.MinFree.IsZero() {
		o.MinFree = Space{Bytes: Size(d.MinFree.Bytes), Percent: d.MinFree.Percent}
	}
	if o.HardMinFree.IsZero() {
		o.HardMinFree = Space{Bytes: Size(d.HardMinFree.Bytes), Percent: d.HardMinFree.Percent}
	}
}

func (o *Output) validate(v *validator, at string) {
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
		v.add(at+".type", "missing: want \"file\" or \"stdout\"")
	default:
		v.add(at+".type", "%q: want \"file\" or \"stdout\"", o.Type)
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
	if o.MaxBuffer != 0 && o.MaxBuffer < 64<<10 {
		v.add(at+".max_buffer", "%s: want at least 64KiB", o.MaxBuffer)
	}
	if o.MaxTotal != 0 && o.MaxSize != 0 && o.MaxTotal < o.MaxSize {
		v.add(at+".max_total", "%s is smaller than max_size %s", o.MaxTotal, o.MaxSize)
	}
}
