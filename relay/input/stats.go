package input

import "sync/atomic"

// Stats counts what inputs receive and what they had to do about it. The
// counters are atomic: every connection of an input adds to them as it
// goes, and the metrics endpoint reads them at any time. A Stats may be
// shared by several inputs; it must not be copied after first use.
type Stats struct {
	// Messages and Bytes count the frames delivered to the Sink and their
	// bytes.
	Messages atomic.Uint64
	Bytes    atomic.Uint64
	// Truncated counts lines (and datagrams) longer than the maximum
	// message size, delivered cut at the maximum.
	Truncated atomic.Uint64
	// OversizeSkipped counts octet-counted frames longer than the maximum,
	// delivered as their first bytes only (Batch.Oversize), the rest
	// discarded.
	OversizeSkipped atomic.Uint64
	// BadFrames counts frames that were not what they claimed: a count
	// that cannot start a frame (the garbage up to the next frame start
	// or LF delivered as a frame of its own), or a frame cut short by the
	// end of its stream.
	BadFrames atomic.Uint64
	// SkippedBytes counts the bytes discarded unread: oversize frames
	// beyond their first bytes and the rest of lines too long.
	SkippedBytes atomic.Uint64
	// ConnectionsOpen is the number of stream clients connected now.
	ConnectionsOpen atomic.Int64
	// ConnectionsAccepted counts stream clients accepted;
	// ConnectionsRejected those closed at once because their peer had
	// MaxConnectionsPerPeer open, all of them delivering and idle.
	ConnectionsAccepted atomic.Uint64
	ConnectionsRejected atomic.Uint64
	// ConnectionsEvicted counts stream clients closed, having delivered
	// nothing, to make room for a new one.
	ConnectionsEvicted atomic.Uint64
	// IdleTimeouts counts stream clients closed for sending nothing for
	// IdleTimeout; FrameTimeouts those that did not complete a frame
	// within FrameTimeout.
	IdleTimeouts  atomic.Uint64
	FrameTimeouts atomic.Uint64
	// ReadErrors counts failed reads and accepts other than a clean close
	// (connection resets, for instance).
	ReadErrors atomic.Uint64
	// TLSHandshakeErrors counts tls clients whose handshake failed or did not
	// complete within HandshakeTimeout (a client without the certificate
	// mutual TLS asks for, say): closed, having delivered nothing.
	TLSHandshakeErrors atomic.Uint64
	// TLSReloadErrors counts reloads of a tls input's certificate files
	// that failed: the certificates loaded before stay in use.
	TLSReloadErrors atomic.Uint64
}

// Counts is a copy of a Stats' counters at one moment.
type Counts struct {
	Messages            uint64
	Bytes               uint64
	Truncated           uint64
	OversizeSkipped     uint64
	BadFrames           uint64
	SkippedBytes        uint64
	ConnectionsOpen     int64
	ConnectionsAccepted uint64
	ConnectionsRejected uint64
	ConnectionsEvicted  uint64
	IdleTimeouts        uint64
	FrameTimeouts       uint64
	ReadErrors          uint64
	TLSHandshakeErrors  uint64
	TLSReloadErrors     uint64
}

// Snapshot returns the counters' current values. Each is read atomically;
// together they are not a consistent cut while inputs run.
func (s *Stats) Snapshot() Counts {
	return Counts{
		Messages:            s.Messages.Load(),
		Bytes:               s.Bytes.Load(),
		Truncated:           s.Truncated.Load(),
		OversizeSkipped:     s.OversizeSkipped.Load(),
		BadFrames:           s.BadFrames.Load(),
		SkippedBytes:        s.SkippedBytes.Load(),
		ConnectionsOpen:     s.ConnectionsOpen.Load(),
		ConnectionsAccepted: s.ConnectionsAccepted.Load(),
		ConnectionsRejected: s.ConnectionsRejected.Load(),
		ConnectionsEvicted:  s.ConnectionsEvicted.Load(),
		IdleTimeouts:        s.IdleTimeouts.Load(),
		FrameTimeouts:       s.FrameTimeouts.Load(),
		ReadErrors:          s.ReadErrors.Load(),
		TLSHandshakeErrors:  s.TLSHandshakeErrors.Load(),
		TLSReloadErrors:     s.TLSReloadErrors.Load(),
	}
}
