package ratelimit

import "github.com/floodgate/floodgate"

// AppendPending appends to dst every suppressed count the budgets hold
// and have not yet emitted, one per source and reason, under the host and
// app its summary will carry, and returns the extended slice. It is
// read-only; call it from the goroutine that owns b, between Handle and
// Tick calls.
func (b *Budgets) AppendPending(dst []floodgate.Pending) []floodgate.Pending {
	for _, s := range b.waiting {
		for reason, p := range s.pend {
			if p == nil || p.count == 0 {
				continue
			}
			dst = append(dst, floodgate.Pending{
				Host:     p.sample.Host,
				App:      p.sample.App,
				Kind:     floodgate.Suppressed,
				FP:       p.fp,
				Reason:   Reason(reason).String(),
				Facility: p.sample.Facility,
				Severity: p.worst,
				Count:    p.count,
				First:    p.first,
				Last:     p.last,
			})
		}
	}
	return dst
}
