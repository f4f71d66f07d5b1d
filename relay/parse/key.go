package parse

import (
	"math/bits"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/floodgate/floodgate"
)

// SourceKey returns KeyOf(host, app) for the host and app Parse would find
// in frame, so the relay can shard frames across workers before parsing
// them and still keep every source on one worker. It costs a scan of the
// header for the common shapes (the scanners Parse uses first) and a full
// parse for the rest. It is safe
// for concurrent use.
func SourceKey(frame []byte) uint64 {
	f := trimEOL(frame)
	if h, ok := scan(f); ok {
		host := dashHash
		if h.host < h.hostEnd {
			host = xxhash.Sum64(f[h.host:h.hostEnd])
		}
		return mix(host, xxhash.Sum64(f[h.tag:h.tagEnd]))
	}
	// The same steps in the same order as Parse.
	if !maybeSyslog(f) {
		return unparsedKey
	}
	if h, ok := scan5424(f); ok {
		host, app := dashHash, dashHash
		if h.host < h.hostEnd {
			host = xxhash.Sum64(f[h.host:h.hostEnd])
		}
		if h.app < h.appEnd {
			app = xxhash.Sum64(f[h.app:h.appEnd])
		}
		return mix(host, app)
	}
	p := keyParsers.Get().(*Parser)
	var m floodgate.Message
	p.Parse(f, time.Time{}, &m)
	keyParsers.Put(p)
	return KeyOf(m.Host, m.App)
}

// dashHash is the hash of the unknown host or app "-", unparsedKey the key
// of every Unparsed message.
var (
	dashHash    = xxhash.Sum64String("-")
	unparsedKey = KeyOf("-", "-")
)

// keyParsers serve SourceKey's full parses; the zone does not matter for
// host and app.
var keyParsers = sync.Pool{New: func() any { return New(Options{Location: time.UTC}) }}

// KeyOf returns the source key of a (host, app) pair, the hash SourceKey
// computes from a frame: shard by it, and messages of one source meet on
// one worker however they were framed.
func KeyOf(host, app string) uint64 {
	return mix(xxhash.Sum64String(host), xxhash.Sum64String(app))
}

// mix combines the hashes of host and app so that (a, b) and (b, a) differ.
func mix(host, app uint64) uint64 {
	return bits.RotateLeft64(host*0x9e3779b97f4a7c15, 31) ^ app
}
