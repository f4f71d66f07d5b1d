package dedupe

import "github.com/floodgate/floodgate"

// AppendPending appends to dst every count the engine holds and has not
// yet emitted, one per pattern, and returns the extended slice. It is
// read-only and allocates only to grow dst (and a pattern's fingerprint
// string, once); call it from the goroutine that owns e, between Handle
// and Tick calls. A count includes the messages held to be written as
// lines (the records emit writes for them are marked Counted); the lines
// of a block still being assembled are not counted yet, and are not
// included.
func (e *Engine) AppendPending(dst []floodgate.Pending) []floodgate.Pending {
	for _, p := range e.pending {
		if p.dead || p.count == 0 {
			continue
		}
		dst = append(dst, floodgate.Pending{
			Host:     p.host,
			App:      p.app,
			Kind:     p.kind,
			FP:       e.fpOf(p),
			Facility: p.facility,
			Severity: p.severity,
			Count:    p.count,
			First:    p.first,
			Last:     p.last,
		})
	}
	return dst
}
