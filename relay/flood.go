package relay

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/internal/bytesize"
	"github.com/floodgate/floodgate/ratelimit"
)

// Events of floodgate's own records about floods.
const (
	EventFloodStart = "flood_start"
	EventFloodEnd   = "flood_end"
)

// FloodOptions say when a source's rate is a flood.
//
// A source's rate and its baseline are moving averages of the bytes it
// sent per second (exponentially weighted ones, over Rate and over
// Baseline): a flood of goroutine dumps comes in bursts, one a few
// seconds. A flood starts when the source's rate stays over Factor times
// its baseline, and over MinRate, for Start. While it lasts the baseline learns six
// times slower, so a flood does not become its own normal within minutes,
// yet a source that settles at a new rate stops counting as a flood
// within the hour. It ends when the source has
// sent no more than EndFactor times its baseline (and no more than half
// of MinRate) for End. The gap between the two thresholds
// and the two durations keep a flood that wavers from starting and ending
// over and over.
//
// A source the relay has not seen before has a baseline of nothing: one
// that arrives sending more than MinRate, as a flood does and as a busy
// source does when the relay starts, counts as a flood.
type FloodOptions struct {
	Factor     float64
	MinRate    int64 // bytes per second
	Rate       time.Duration
	Start      time.Duration
	EndFactor  float64
	End        time.Duration
	Baseline   time.Duration
	MaxSources int // tracked per shard; the least recently seen is forgotten
	// Host names the relay host in its own records.
	Host string
}

// DefaultFloodOptions returns ten times the baseline and 64 KiB/s for 3 s
// to start, twice the baseline for 30 s to end, a rate over 5 s and a
// baseline over 10 min.
func DefaultFloodOptions() FloodOptions {
	return FloodOptions{
		Factor:     10,
		MinRate:    64 << 10,
		Rate:       5 * time.Second,
		Start:      3 * time.Second,
		EndFactor:  2,
		End:        30 * time.Second,
		Baseline:   10 * time.Minute,
		MaxSources: 10000,
	}
}

// Flood is one source's flood, as the flood records tell it.
type Flood struct {
	Host, App string
	// Start is the first second over the threshold; End the last, zero
	// while the flood goes on.
	Start, End time.Time
	// Bytes and Messages were sent from Start to End; Peak is the most
	// bytes in one second.
	Bytes, Messages, Peak int64
}

// floodStage watches each source's received bytes per second at the head
// of a shard's chain, and writes a record of its own when a source's flood
// starts and when it ends. It writes them straight to the chain's end
// (out), past dedupe and the budgets: they are no message received, and
// no stage is to fold, charge or drop them. It runs in the shard's
// goroutine, like every stage.
type floodStage struct {
	next, out floodgate.Handler
	o         FloodOptions
	alpha     float64 // EWMA weight of one second
	slow      float64 // the same while the source floods
	short     float64 // EWMA weight of one second in the rate
	sources   *simplelru.LRU[[2]string, *floodSource]
	last      *floodSource // the source of the previous message: floods come in runs
	flooding  []*floodSource
	// onFlood, when set, is told of each flood as it starts, again as it
	// ends, and at the final tick of one still going.
	onFlood func(Flood)
}

// floodSource is one source's state. Seconds are the pipeline clock's.
type floodSource struct {
	host, app string
	sec       int64 // the second being counted
	bytes     int64 // in sec
	msgs      int64
	rate      float64 // bytes per second, averaged over Rate
	baseline  float64 // bytes per second, averaged over Baseline
	over      int     // seconds in a row over the start threshold
	overBytes int64   // their bytes
	under     int     // seconds in a row under the end threshold, while flooding
	flooding  bool
	start     int64 // first second of the flood
	total     int64 // bytes and messages of the flood
	totalMsgs int64
	peak      int64 // bytes in its busiest second
	overMsgs  int64
	overPeak  int64
	// underBytes and underMsgs are what the calm seconds in a row (under)
	// brought.
	underBytes, underMsgs int64
	listed                bool // in floodStage.flooding
}

func newFloodStage(o FloodOptions, next, out floodgate.Handler) *floodStage {
	if o.Host == "" {
		o.Host = ratelimit.InternalHost
	}
	tau := max(o.Baseline.Seconds(), 1)
	s := &floodStage{next: next, out: out, o: o, alpha: 1 - math.Exp(-1/tau), slow: 1 - math.Exp(-1/(6*tau)),
		short: 1 - math.Exp(-1/max(o.Rate.Seconds(), 1))}
	s.sources, _ = simplelru.NewLRU[[2]string, *floodSource](max(o.MaxSources, 1), nil)
	return s
}

func (s *floodStage) Handle(now time.Time, r *floodgate.Record) {
	if r.Summary == nil && r.Syntax != floodgate.Internal {
		src := s.last
		if src == nil || src.host != r.Host || src.app != r.App {
			src = s.source(r.Host, r.App, now)
			s.last = src
		}
		if sec := now.Unix(); sec != src.sec {
			s.advance(now, src, sec)
		}
		src.bytes += int64(r.Size)
		src.msgs++
	}
	s.next.Handle(now, r)
}

// Tick closes the seconds of flooding sources that went quiet, so their
// floods end without another message.
func (s *floodStage) Tick(now time.Time, final bool) {
	sec := now.Unix()
	kept := s.flooding[:0]
	for _, src := range s.flooding {
		if src.sec < sec {
			s.advance(now, src, sec) // may end the flood, never start one
		}
		if src.flooding {
			kept = append(kept, src)
		} else {
			src.listed = false
		}
	}
	clear(s.flooding[len(kept):])
	s.flooding = kept
	if final && s.onFlood != nil {
		// Floods still going: what they sent so far.
		for _, src := range s.flooding {
			s.onFlood(Flood{Host: src.host, App: src.app, Start: time.Unix(src.start, 0).UTC(),
				Bytes: src.total + src.underBytes, Messages: src.totalMsgs + src.underMsgs, Peak: src.peak})
		}
	}
	s.next.Tick(now, final)
}

func (s *floodStage) source(host, app string, now time.Time) *floodSource {
	k := [2]string{host, app}
	if src, ok := s.sources.Get(k); ok {
		return src
	}
	// Copies: the strings of a message may share a larger buffer, which
	// a long-lived source must not pin.
	host, app = strings.Clone(host), strings.Clone(app)
	src := &floodSource{host: host, app: app, sec: now.Unix()}
	s.sources.Add([2]string{host, app}, src)
	return src
}

// maxQuiet bounds the quiet seconds closed one by one; beyond it the
// baseline decays in one step.
const maxQuiet = 600

// advance closes src's seconds up to sec: the counted one, then the
// quiet ones between.
func (s *floodStage) advance(now time.Time, src *floodSource, sec int64) {
	if sec < src.sec {
		return // the clock never goes back; a source forgotten and seen again may
	}
	s.close(now, src, src.bytes, src.msgs)
	gap := sec - src.sec - 1
	for i := int64(0); i < min(gap, maxQuiet); i++ {
		src.sec++
		s.close(now, src, 0, 0)
	}
	if gap > maxQuiet && !src.flooding {
		src.baseline *= math.Pow(1-s.alpha, float64(gap-maxQuiet))
	}
	src.sec, src.bytes, src.msgs = sec, 0, 0
}

// close takes one second of src with bytes and msgs in it.
func (s *floodStage) close(now time.Time, src *floodSource, bytes, msgs int64) {
	o := &s.o
	src.rate += s.short * (float64(bytes) - src.rate)
	if !src.flooding {
		if src.rate > max(o.Factor*src.baseline, float64(o.MinRate)) {
			src.over++
			src.overBytes += bytes
			src.overMsgs += msgs
			src.overPeak = max(src.overPeak, bytes)
			if time.Duration(src.over)*time.Second >= o.Start {
				src.flooding, src.under, src.underBytes, src.underMsgs = true, 0, 0, 0
				src.start = src.sec - int64(src.over) + 1
				src.total, src.totalMsgs, src.peak = src.overBytes, src.overMsgs, src.overPeak
				if !src.listed {
					src.listed = true
					s.flooding = append(s.flooding, src)
				}
				s.emitStart(now, src, int64(src.rate))
			}
			return // a flood in the making does not teach the baseline
		}
		src.over, src.overBytes, src.overMsgs, src.overPeak = 0, 0, 0, 0
		src.baseline += s.alpha * (float64(bytes) - src.baseline)
		return
	}
	src.baseline += s.slow * (float64(bytes) - src.baseline)
	if src.rate <= max(o.EndFactor*src.baseline, float64(o.MinRate)/2) {
		// Calm seconds count for the flood only if it picks up again.
		src.under++
		src.underBytes += bytes
		src.underMsgs += msgs
		if time.Duration(src.under)*time.Second >= o.End {
			src.flooding, src.over, src.overBytes, src.overMsgs, src.overPeak = false, 0, 0, 0, 0
			s.emitEnd(now, src)
		}
		return
	}
	src.total += src.underBytes + bytes
	src.totalMsgs += src.underMsgs + msgs
	src.peak = max(src.peak, bytes)
	src.under, src.underBytes, src.underMsgs = 0, 0, 0
}

func (s *floodStage) emitStart(now time.Time, src *floodSource, rate int64) {
	text := fmt.Sprintf("flood from %s on %s: %s/s for %ds, over %s/s",
		src.app, src.host, bytesize.Human(rate), src.over, bytesize.Human(int64(max(s.o.Factor*src.baseline, float64(s.o.MinRate)))))
	if src.baseline >= 1 {
		text += fmt.Sprintf(", %.0f times its baseline of %s/s", float64(rate)/src.baseline, bytesize.Human(int64(src.baseline)))
	} else {
		text += ", from next to nothing"
	}
	s.emit(now, EventFloodStart, floodgate.Warning, text)
	if s.onFlood != nil {
		s.onFlood(Flood{Host: src.host, App: src.app, Start: time.Unix(src.start, 0).UTC(), Bytes: src.total, Messages: src.totalMsgs, Peak: src.peak})
	}
}

func (s *floodStage) emitEnd(now time.Time, src *floodSource) {
	last := src.sec - int64(src.under) // the last second over the end threshold
	d := time.Duration(last-src.start+1) * time.Second
	text := fmt.Sprintf("flood from %s on %s ended: %d messages, %s over %s (from %s), at most %s/s; back under %s/s for %s",
		src.app, src.host, src.totalMsgs, bytesize.Human(src.total), d, time.Unix(src.start, 0).UTC().Format(time.RFC3339),
		bytesize.Human(src.peak), bytesize.Human(int64(max(s.o.EndFactor*src.baseline, float64(s.o.MinRate)/2))), s.o.End)
	s.emit(now, EventFloodEnd, floodgate.Notice, text)
	if s.onFlood != nil {
		s.onFlood(Flood{Host: src.host, App: src.app, Start: time.Unix(src.start, 0).UTC(), End: time.Unix(last, 0).UTC(),
			Bytes: src.total, Messages: src.totalMsgs, Peak: src.peak})
	}
}

func (s *floodStage) emit(now time.Time, event string, sev floodgate.Severity, text string) {
	syslogFacility, _ := floodgate.ParseFacility("syslog")
	s.out.Handle(now, &floodgate.Record{Message: floodgate.Message{
		Time:     now,
		Host:     s.o.Host,
		App:      ratelimit.InternalApp,
		Event:    event,
		Facility: syslogFacility,
		Severity: sev,
		Text:     text,
		Syntax:   floodgate.Internal,
		Size:     len(text),
	}})
}
