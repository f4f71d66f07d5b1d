package output

import (
	"io"
	"strconv"
	"time"

	"github.com/floodgate/floodgate/internal/bytesize"
)

// Options configure an output. New fills the fields it needs left at zero
// from DefaultOptions, except MaxSize, MaxFiles, MaxTotal and Compress,
// whose zero means what it says: never rotate, keep no rotated file, no
// bound, no gzip.
type Options struct {
	// Type is "file" (the default) or "stdout".
	Type string
	// Path is the file path, with placeholders {host} {app} {facility}
	// {severity} {date} filled from each record.
	Path string
	// Format is "traditional", "rfc5424" or "json".
	Format string
	// RawControl writes control characters in the traditional and RFC 5424
	// formats as received rather than as #ooo (see format.Options).
	RawControl bool
	// MaxSize rotates a file when a write would take it past this many
	// bytes; 0 never rotates.
	MaxSize int64
	// MaxFiles is how many rotated files are kept per file.
	MaxFiles int
	// Compress gzips rotated files.
	Compress bool
	// MaxTotal bounds the bytes of all files under the output's base
	// directory, as they really are on disk: before a write would pass
	// it the oldest rotated files, across every source, are removed;
	// current files never are.
	// 0 is no bound.
	MaxTotal int64
	// MinFree and HardMinFree are the disk guard's watermarks: below
	// MinFree only protected severities and summaries are written, below
	// HardMinFree nothing is.
	MinFree, HardMinFree Space
	// MaxOpenFiles caps open file handles; the least recently used is
	// closed first.
	MaxOpenFiles int
	// MaxBuffer bounds the bytes the output holds in memory while writes
	// fail; past it records are dropped and counted.
	MaxBuffer int
	// MaxFilesTotal caps the current files the output writes at once;
	// past it messages of new sources go to a shared overflow file, the
	// path with {host} and {app} replaced by "_overflow".
	MaxFilesTotal int
	// FileIdle is how long a file must go unwritten before it frees its
	// place among the MaxFilesTotal (yesterday's {date}, a host gone
	// quiet).
	FileIdle time.Duration
	// Host is the host name of floodgate's own records (the overflow
	// warning); "" is the machine's name.
	Host string
	// Writer is where a "stdout" output writes; nil means os.Stdout.
	// Close leaves it open.
	Writer io.Writer
}

// DefaultOptions returns the defaults of an output, the values of the
// built-in configuration.
func DefaultOptions() Options {
	return Options{
		Type:          "file",
		Format:        "traditional",
		MaxSize:       256 << 20,
		MaxFiles:      5,
		MinFree:       Space{Percent: 5},
		HardMinFree:   Space{Percent: 1},
		MaxOpenFiles:  256,
		MaxBuffer:     8 << 20,
		MaxFilesTotal: 10000,
		FileIdle:      time.Hour,
	}
}

// filled returns o with the fields that have no meaningful zero taken
// from DefaultOptions.
func (o Options) filled() Options {
	d := DefaultOptions()
	if o.Type == "" {
		o.Type = d.Type
	}
	if o.Format == "" {
		o.Format = d.Format
	}
	if o.MinFree.IsZero() {
		o.MinFree = d.MinFree
	}
	if o.HardMinFree.IsZero() {
		o.HardMinFree = d.HardMinFree
	}
	if o.MaxOpenFiles <= 0 {
		o.MaxOpenFiles = d.MaxOpenFiles
	}
	if o.MaxBuffer <= 0 {
		o.MaxBuffer = d.MaxBuffer
	}
	if o.MaxFilesTotal <= 0 {
		o.MaxFilesTotal = d.MaxFilesTotal
	}
	if o.FileIdle <= 0 {
		o.FileIdle = d.FileIdle
	}
	return o
}

// Space is an amount of free space: Bytes, or Percent of the filesystem
// when Percent is not zero.
type Space struct {
	Bytes   int64
	Percent float64 // 0 to 100
}

// Of returns the space in bytes on a filesystem of total bytes.
func (s Space) Of(total uint64) uint64 {
	if s.Percent > 0 {
		return uint64(float64(total) * s.Percent / 100)
	}
	return uint64(max(s.Bytes, 0))
}

// IsZero reports whether no space was set.
func (s Space) IsZero() bool { return s.Bytes == 0 && s.Percent == 0 }

// String renders the space as a config would write it ("5%", "1MiB").
func (s Space) String() string {
	if s.Percent > 0 {
		return strconv.FormatFloat(s.Percent, 'f', -1, 64) + "%"
	}
	return bytesize.Format(s.Bytes)
}
