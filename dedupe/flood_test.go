package dedupe

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/floodgate/floodgate"
)

// This file holds a small test-only generator of the incident's flood
// (bench/gen is another engineer's and was not committed when these
// benchmarks were written): goroutine dumps of thousands of goroutines
// over a handful of distinct stacks, a systemd restart loop every two
// seconds, and templated background traffic from a few hosts at about one
// message in a thousand.

// frameDef is one frame of a synthetic stack.
type frameDef struct {
	fn, file string
	line     int
	args     int
}

// floodStacks are the distinct stacks of the dump, the first one the
// seed's.
var floodStacks = [][]frameDef{
	{
		{"syscall.Syscall6", "/usr/local/go/src/syscall/asm_linux_amd64.s", 44, 10},
		{"syscall.openat", "/usr/local/go/src/syscall/zsyscall_linux_amd64.go", 40, 8},
		{"syscall.Open", "/usr/local/go/src/syscall/syscall_linux.go", 51, 7},
		{"os.OpenFile", "/usr/local/go/src/os/file_unix.go", 97, 7},
		{"io/ioutil.TempFile", "/usr/local/go/src/io/ioutil/tempfile.go", 55, 7},
		{"github.com/docker/docker/pkg/ioutils.NewAtomicFileWriter", "/usr/src/docker/.gopath/src/github.com/docker/docker/pkg/ioutils/fswriters.go", 14, 7},
		{"github.com/docker/docker/container.(*Container).ToDisk", "/usr/src/docker/.gopath/src/github.com/docker/docker/container/container.go", 155, 3},
		{"github.com/docker/docker/container.(*Container).ToDiskLocking", "/usr/src/docker/.gopath/src/github.com/docker/docker/container/container.go", 174, 3},
		{"github.com/docker/docker/daemon.(*Daemon).restore.func1", "/usr/src/docker/.gopath/src/github.com/docker/docker/daemon/daemon.go", 198, 8},
	},
	{
		{"runtime.gopark", "/usr/local/go/src/runtime/proc.go", 287, 5},
		{"runtime.goparkunlock", "/usr/local/go/src/runtime/proc.go", 293, 3},
		{"runtime.chanrecv", "/usr/local/go/src/runtime/chan.go", 506, 4},
		{"runtime.chanrecv1", "/usr/local/go/src/runtime/chan.go", 388, 2},
		{"github.com/docker/docker/daemon.(*Daemon).ContainerWait", "/usr/src/docker/.gopath/src/github.com/docker/docker/daemon/wait.go", 21, 4},
		{"github.com/docker/docker/api/server/router/container.(*containerRouter).postContainersWait", "/usr/src/docker/.gopath/src/github.com/docker/docker/api/server/router/container/container_routes.go", 361, 6},
	},
	{
		{"runtime.gopark", "/usr/local/go/src/runtime/proc.go", 287, 5},
		{"runtime.selectgo", "/usr/local/go/src/runtime/select.go", 395, 2},
		{"github.com/docker/docker/libcontainerd.(*client).Restore", "/usr/src/docker/.gopath/src/github.com/docker/docker/libcontainerd/client_linux.go", 577, 5},
		{"github.com/docker/docker/daemon.(*Daemon).restore.func1", "/usr/src/docker/.gopath/src/github.com/docker/docker/daemon/daemon.go", 185, 8},
	},
	{
		{"internal/poll.runtime_pollWait", "/usr/local/go/src/runtime/netpoll.go", 173, 2},
		{"internal/poll.(*pollDesc).wait", "/usr/local/go/src/internal/poll/fd_poll_runtime.go", 85, 3},
		{"internal/poll.(*FD).Read", "/usr/local/go/src/internal/poll/fd_unix.go", 126, 4},
		{"net.(*netFD).Read", "/usr/local/go/src/net/fd_unix.go", 202, 4},
		{"net/http.(*connReader).Read", "/usr/local/go/src/net/http/server.go", 753, 4},
	},
	{
		{"sync.runtime_SemacquireMutex", "/usr/local/go/src/runtime/sema.go", 71, 2},
		{"sync.(*Mutex).Lock", "/usr/local/go/src/sync/mutex.go", 134, 1},
		{"github.com/docker/docker/container.(*State).Lock", "/usr/src/docker/.gopath/src/github.com/docker/docker/container/state.go", 88, 1},
		{"github.com/docker/docker/daemon.(*Daemon).containerInspectCurrent", "/usr/src/docker/.gopath/src/github.com/docker/docker/daemon/inspect.go", 40, 3},
	},
}

var floodStates = []string{"runnable", "chan receive", "select", "IO wait", "semacquire"}

var floodCreators = []string{
	"github.com/docker/docker/daemon.(*Daemon).restore",
	"net/http.(*Server).Serve",
}

var systemdLoop = []string{
	"protokube.service: Main process exited, code=exited, status=125/n/a",
	"protokube.service: Unit entered failed state.",
	"protokube.service: Failed with result 'exit-code'.",
	"protokube.service: Service hold-off time over, scheduling restart.",
	"Stopped Kubernetes Protokube Service.",
	"Starting Kubernetes Protokube Service...",
	"Started Kubernetes Protokube Service.",
}

// floodGen yields the synthetic incident flood, deterministically.
type floodGen struct {
	rng      *rand.Rand
	t        time.Time
	step     time.Duration // message time per dump line
	queue    []floodgate.Message
	gid      int
	nextLoop time.Time
	pid      int
}

func newFloodGen(seed uint64, step time.Duration) *floodGen {
	t := time.Date(2018, 9, 11, 1, 0, 0, 0, time.UTC)
	return &floodGen{rng: rand.New(rand.NewPCG(seed, 1)), t: t, step: step, gid: 2648, nextLoop: t, pid: 29000}
}

const sickHost = "ip-10-18-39-127"

func (g *floodGen) msg(host, app, procid, text string, sev floodgate.Severity) floodgate.Message {
	return floodgate.Message{
		Time: g.t, Host: host, App: app, ProcID: procid, Text: text,
		Facility: 3, Severity: sev, Syntax: floodgate.SyntaxTraditional,
		// The line as rsyslog writes it: "Sep 11 01:24:50 host app[pid]: text".
		Size: 16 + len(host) + 1 + len(app) + 2 + len(procid) + 3 + len(text) + 1,
	}
}

// Next fills m with the next message of the flood.
func (g *floodGen) Next(m *floodgate.Message) {
	if len(g.queue) == 0 {
		switch {
		case !g.t.Before(g.nextLoop):
			g.restartLoop()
		case g.rng.IntN(1000) == 0:
			g.background()
		default:
			g.goroutine()
		}
	}
	*m = g.queue[0]
	g.queue = g.queue[1:]
}

func (g *floodGen) restartLoop() {
	g.nextLoop = g.nextLoop.Add(2 * time.Second)
	for _, text := range systemdLoop {
		g.queue = append(g.queue, g.msg(sickHost, "systemd", "1", text, floodgate.Notice))
	}
	g.pid += 1 + g.rng.IntN(20)
	pid := fmt.Sprint(g.pid)
	g.queue = append(g.queue,
		g.msg(sickHost, "docker", pid, "/usr/bin/docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?.", floodgate.Err),
		g.msg(sickHost, "docker", pid, "See '/usr/bin/docker run --help'.", floodgate.Err))
}

func (g *floodGen) background() {
	hosts := []string{"node-a", "node-b", "node-c"}
	host := hosts[g.rng.IntN(len(hosts))]
	r := g.rng
	var app, text string
	switch r.IntN(4) {
	case 0:
		app = "kubelet"
		text = fmt.Sprintf("I0911 01:%02d:%02d.%06d    %d kubelet_pods.go:1090] Killing unwanted pod \"web-%d\"", r.IntN(60), r.IntN(60), r.IntN(1e6), 1200+r.IntN(50), r.IntN(40))
	case 1:
		app = "kubelet"
		text = fmt.Sprintf("E0911 01:%02d:%02d.%06d    %d pod_workers.go:186] Error syncing pod %08x-%04x-%04x-%04x-%012x, skipping: failed to \"StartContainer\"", r.IntN(60), r.IntN(60), r.IntN(1e6), 1200+r.IntN(50), r.Uint32(), r.IntN(1<<16), r.IntN(1<<16), r.IntN(1<<16), r.Uint64()&(1<<48-1))
	case 2:
		app = "sshd"
		text = fmt.Sprintf("Accepted publickey for core from 10.0.%d.%d port %d ssh2", r.IntN(256), r.IntN(256), 30000+r.IntN(30000))
	default:
		app = "kernel"
		text = fmt.Sprintf("[%d.%06d] IPv6: ADDRCONF(NETDEV_UP): veth%d: link is not ready", r.IntN(1e6), r.IntN(1e6), r.IntN(1<<28))
	}
	g.queue = append(g.queue, g.msg(host, app, fmt.Sprint(1000+r.IntN(9000)), text, floodgate.Info))
}

func (g *floodGen) hex() string { return fmt.Sprintf("0x%x", g.rng.Uint64()>>uint(g.rng.IntN(56))) }

func (g *floodGen) goroutine() {
	r := g.rng
	// A handful of stacks, most goroutines on the first.
	s := 0
	if x := r.IntN(100); x >= 60 {
		s = 1 + (x-60)/10
	}
	stack := floodStacks[s]
	state := floodStates[s]
	if s == 1 && r.IntN(2) == 0 {
		state = fmt.Sprintf("chan receive, %d minutes", 1+r.IntN(30))
	}
	if s == 0 && r.IntN(20) == 0 {
		state = "chan receive"
	}
	g.gid++
	add := func(text string) {
		g.t = g.t.Add(g.step)
		g.queue = append(g.queue, g.msg(sickHost, "dockerd", "12436", text, floodgate.Err))
	}
	add(fmt.Sprintf("goroutine %d [%s]:", g.gid, state))
	for _, f := range stack {
		args := ""
		for i := range f.args {
			if i > 0 {
				args += ", "
			}
			args += g.hex()
		}
		add(fmt.Sprintf("%s(%s)", f.fn, args))
		add(fmt.Sprintf("#011%s:%d +0x%x", f.file, f.line, 0x10+f.line%200))
	}
	creator := floodCreators[s%len(floodCreators)]
	add("created by " + creator)
	add(fmt.Sprintf("#011/usr/src/docker/.gopath/src/github.com/docker/docker/daemon/daemon.go:%d +0x78a", 275+s))
}
