package gen

import (
	"strconv"
	"strings"
	"time"

	"github.com/floodgate/floodgate"
)

// NewSystemd returns n messages of systemd restart loops in the wordings
// of systemd 245 and later, on four hosts: units that fail at start
// ("Main process exited, code=exited, status=1/FAILURE", "Failed with
// result 'exit-code'.", "Consumed 1.234s CPU time.", "Scheduled restart
// job, restart counter is at 5.", "Stopped ...", "Started ...") after
// their own last words (a config error, a refused connection), each unit
// at its own RestartSec; one gives up for a while ("Start request
// repeated too quickly."). Among them a Go daemon, metrics-agent, that
// panics at every start and prints a goroutine dump in the format of Go
// 1.23 and later (`goroutine 7 gp=0xc000103c00 m=nil [select]:`,
// `{0x...}` arguments, `created by ... in goroutine 1`), some 40 to 120
// goroutines over eight stacks, each goroutine a block. The unit, the
// restart counter, PIDs and CPU times vary.
func NewSystemd(seed int64, n int) Generator {
	return build("systemd", kindConfig{seed: seed, n: n, hosts: hostNames("app", 4)}, newSystemd)
}

var (
	sdExited      = lsev("systemd", floodgate.Notice, "{$0}: Main process exited, code=exited, status=1/FAILURE")
	sdExited2     = lsev("systemd", floodgate.Notice, "{$0}: Main process exited, code=exited, status=2/INVALIDARGUMENT")
	sdFailed      = lsev("systemd", floodgate.Warning, "{$0}: Failed with result 'exit-code'.")
	sdConsumed    = ln("systemd", "{$0}: Consumed {s3}s CPU time.")
	sdScheduled   = ln("systemd", "{$0}: Scheduled restart job, restart counter is at {$1}.")
	sdStopped     = ln("systemd", "Stopped {$2}.")
	sdStarting    = ln("systemd", "Starting {$2}...")
	sdStarted     = ln("systemd", "Started {$2}.")
	sdTooQuickly  = lsev("systemd", floodgate.Warning, "{$0}: Start request repeated too quickly.")
	sdFailedStart = lsev("systemd", floodgate.Err, "Failed to start {$2}.")
)

// A crash-looping unit: its name, description, binary and last words.
type loopUnit struct {
	unit, desc, app string
	every           time.Duration
	last            []*line
	gopanic         bool
}

var loopUnits = []loopUnit{
	{"billing-sync.service", "Billing sync daemon", "billing-sync", 5 * time.Second, []*line{
		lsev("billing-sync", floodgate.Err, "Error: failed to load config /etc/billing-sync/config.yaml: open /etc/billing-sync/config.yaml: permission denied"),
	}, false},
	{"node-exporter.service", "Prometheus exporter for machine metrics", "node_exporter", 10 * time.Second, []*line{
		lsev("node_exporter", floodgate.Err, `ts={rfc3339} caller=node_exporter.go:223 level=error err="listen tcp :9100: bind: address already in use"`),
	}, false},
	{"pgbouncer.service", "connection pooler for PostgreSQL", "pgbouncer", 3 * time.Second, []*line{
		lsev("pgbouncer", floodgate.Err, "{log4j} [{$3}] FATAL cannot load config file"),
		lsev("pgbouncer", floodgate.Err, "{log4j} [{$3}] ERROR syntax error in configuration (/etc/pgbouncer/pgbouncer.ini:{d}), stopping loading"),
	}, false},
	{"worker@reports.service", "Queue worker for reports", "worker", 2 * time.Second, []*line{
		lsev("worker", floodgate.Err, "Traceback (most recent call last):"),
		lsev("worker", floodgate.Err, `  File "/opt/worker/main.py", line 12, in <module>`),
		lsev("worker", floodgate.Err, "    import psycopg2"),
		lsev("worker", floodgate.Err, "ModuleNotFoundError: No module named 'psycopg2'"),
	}, false},
	{"metrics-agent.service", "Metrics agent", "metrics-agent", 5 * time.Second, nil, true},
}

func init() {
	sdExited.near, sdExited2.near = "systemd-exit-status", "systemd-exit-status"
}

// workerUnit's last words are a Python traceback: a block.
const workerUnit = "worker@reports.service"

var workerTraceback = newBlock("worker ModuleNotFoundError traceback", loopUnits[3].last...)

// goPanic is the head of the metrics agent's crash.
var (
	goPanic  = lsev("metrics-agent", floodgate.Err, "panic: runtime error: invalid memory address or nil pointer dereference")
	goSignal = lsev("metrics-agent", floodgate.Err, "[signal SIGSEGV: segmentation violation code=0x1 addr={h} pc=0x{x}]")
)

// newGoStacks is the metrics agent's goroutines, in Go 1.23's format:
// the header's state, then "func(args)" and "#011file:line +0xoff"
// pairs, "created by" last.
var newGoStacks = []struct {
	state   string
	weight  int
	running bool
	frames  string
}{
	{"running", 0, true, `main.(*Collector).scrape(0xc0001a2000, {0x{x}, 0xc0004b{x}})
#011/src/agent/collector.go:142 +0x1c4
main.(*Collector).Run(0xc0001a2000, {0x{x}, 0xc000{x}})
#011/src/agent/collector.go:97 +0x2b8
main.main()
#011/src/agent/main.go:61 +0x5a5`},
	{"select", 30, false, `net/http.(*persistConn).writeLoop(0xc000{x})
#011/usr/local/go/src/net/http/transport.go:2519 +0xe7
created by net/http.(*Transport).dialConn in goroutine {d}
#011/usr/local/go/src/net/http/transport.go:1875 +0x15a5`},
	{"IO wait", 30, false, `internal/poll.runtime_pollWait(0x7f{x}, 0x72)
#011/usr/local/go/src/runtime/netpoll.go:351 +0x85
internal/poll.(*pollDesc).wait(0xc000{x}?, 0xc000{x}?, 0x0)
#011/usr/local/go/src/internal/poll/fd_poll_runtime.go:84 +0x27
internal/poll.(*pollDesc).waitRead(...)
#011/usr/local/go/src/internal/poll/fd_poll_runtime.go:89
internal/poll.(*FD).Read(0xc000{x}, {0xc000{x}, 0x1000, 0x1000})
#011/usr/local/go/src/internal/poll/fd_unix.go:165 +0x27a
net.(*netFD).Read(0xc000{x}, {0xc000{x}?, 0x0?, 0x0?})
#011/usr/local/go/src/net/fd_posix.go:55 +0x25
net.(*conn).Read(0xc000{x}, {0xc000{x}?, 0x0?, 0x0?})
#011/usr/local/go/src/net/net.go:189 +0x45
net/http.(*persistConn).Read(0xc000{x}, {0xc000{x}?, 0x0?, 0x0?})
#011/usr/local/go/src/net/http/transport.go:2052 +0x4a
bufio.(*Reader).fill(0xc000{x})
#011/usr/local/go/src/bufio/bufio.go:110 +0x103
bufio.(*Reader).Peek(0xc000{x}, 0x1)
#011/usr/local/go/src/bufio/bufio.go:148 +0x53
net/http.(*persistConn).readLoop(0xc000{x})
#011/usr/local/go/src/net/http/transport.go:2205 +0x185
created by net/http.(*Transport).dialConn in goroutine {d}
#011/usr/local/go/src/net/http/transport.go:1874 +0x154f`},
	{"chan receive", 10, false, `main.(*Shipper).loop(0xc000{x})
#011/src/agent/shipper.go:77 +0x8a
created by main.NewShipper in goroutine 1
#011/src/agent/shipper.go:41 +0x1f6`},
	{"sync.Cond.Wait", 8, false, `sync.runtime_notifyListWait(0xc000{x}, {h})
#011/usr/local/go/src/runtime/sema.go:587 +0x159
sync.(*Cond).Wait(0xc000{x}?)
#011/usr/local/go/src/sync/cond.go:71 +0x85
main.(*Buffer).Pop(0xc000{x})
#011/src/agent/buffer.go:58 +0x6b
main.(*Shipper).drain(0xc000{x})
#011/src/agent/shipper.go:102 +0x45
created by main.NewShipper in goroutine 1
#011/src/agent/shipper.go:42 +0x237`},
	{"select", 10, false, `main.(*Collector).tick(0xc0001a2000, {0x{x}, 0xc000{x}})
#011/src/agent/collector.go:188 +0x11d
created by main.(*Collector).Run in goroutine 1
#011/src/agent/collector.go:88 +0x1a5`},
	{"syscall", 3, false, `os/signal.signal_recv()
#011/usr/local/go/src/runtime/sigqueue.go:152 +0x29
os/signal.loop()
#011/usr/local/go/src/os/signal/signal_unix.go:23 +0x13
created by os/signal.Notify.func1.1 in goroutine 1
#011/usr/local/go/src/os/signal/signal.go:151 +0x1f`},
	{"GC worker (idle)", 8, false, `runtime.gopark(0x{x}?, 0x0?, 0x0?, 0x0?, 0x0?)
#011/usr/local/go/src/runtime/proc.go:424 +0xce
runtime.gcBgMarkWorker(0xc000{x})
#011/usr/local/go/src/runtime/mgc.go:1363 +0xe9
created by runtime.gcBgMarkStartWorkers in goroutine 1
#011/usr/local/go/src/runtime/mgc.go:1279 +0x105`},
}

// goStack is a compiled newGoStacks entry: its blockDef with a header
// line (running or waiting) and its weight.
type goStack struct {
	b      *blockDef
	weight int
}

var goStacks = func() []goStack {
	var out []goStack
	for i, s := range newGoStacks {
		var head *line
		if s.running {
			head = lsev("metrics-agent", floodgate.Err, "goroutine 1 gp=0xc000{x} m=0 mp=0x{x} ["+s.state+"]:")
		} else {
			head = lsev("metrics-agent", floodgate.Err, "goroutine {$5} gp=0xc000{x} m=nil ["+s.state+"]:")
		}
		lines := []*line{head}
		for _, f := range strings.Split(s.frames, "\n") {
			lines = append(lines, lsev("metrics-agent", floodgate.Err, f))
		}
		out = append(out, goStack{newBlock("metrics-agent goroutine stack "+strconv.Itoa(i+1), lines...), s.weight})
	}
	return out
}()

type restartLoop struct {
	u        *loopUnit
	restarts int
	pid      int
	gaveUp   bool
	cum      []int
}

func newSystemd(c kindConfig) *flood {
	g := newFlood(c.seed, c.n)
	for hi, h := range c.hosts {
		for ui := range loopUnits {
			if (hi+ui)%4 == 3 {
				continue // not every unit fails on every host
			}
			u := &loopUnits[ui]
			b := &restartLoop{u: u, pid: 1000 + g.r.IntN(30000)}
			sum := 0
			for _, s := range goStacks {
				sum += s.weight
				b.cum = append(b.cum, sum)
			}
			s := &source{host: h, app: "systemd", pid: "1", fac: 3, sev: floodgate.Info, b: b}
			s.set(0, u.unit)
			s.set(2, u.desc)
			g.addSource(s, c.start, u.every)
		}
	}
	return g
}

func (l *restartLoop) event(g *flood, s *source) {
	r := s.r
	u := l.u
	ms := time.Millisecond
	l.pid += 3 + r.IntN(400)
	s.pid2 = g.a.string(strconv.AppendInt(g.buf[:0], int64(l.pid), 10))
	s.slots[3] = strconv.AppendInt(s.slots[3][:0], int64(l.pid), 10)
	if l.gaveUp {
		// An operator (or a timer) starts it again after a while.
		l.gaveUp, l.restarts = false, 0
	}
	s.add(sdStarting, 0)
	s.add(sdStarted, 2*ms)
	exited := sdExited
	switch {
	case u.gopanic:
		exited = sdExited2
		s.addAlt(goPanic, between(r, 200*ms, 3*time.Second))
		s.addAlt(goSignal, 0)
		s.setInt(5, 1)
		s.addBlockAlt(goStacks[0].b, 20*time.Microsecond)
		gid := 2 + r.IntN(5)
		for range 40 + r.IntN(80) {
			x := r.IntN(l.cum[len(l.cum)-1])
			i := 0
			for l.cum[i] <= x {
				i++
			}
			gid += 1 + r.IntN(12)
			s.addBlockAlt(goStacks[i].b, 20*time.Microsecond)
			s.steps[len(s.steps)-len(goStacks[i].b.lines)].id = gid
		}
	case u.unit == workerUnit:
		s.addBlockAlt(workerTraceback, between(r, 100*ms, 2*time.Second))
	default:
		for i, ll := range u.last {
			d := 50 * time.Microsecond
			if i == 0 {
				d = between(r, 10*ms, 500*ms)
			}
			s.addAlt(ll, d)
		}
	}
	s.add(exited, 5*ms)
	s.add(sdFailed, ms/5)
	s.add(sdConsumed, ms/10)
	l.restarts++
	s.setInt(1, l.restarts)
	if l.restarts >= 5 && r.IntN(8) == 0 {
		s.add(sdTooQuickly, u.every)
		s.add(sdFailedStart, ms/10)
		l.gaveUp = true
		s.next = between(r, 2*time.Minute, 10*time.Minute)
		return
	}
	s.add(sdScheduled, u.every)
	s.add(sdStopped, ms/5)
	s.next = 0
}
