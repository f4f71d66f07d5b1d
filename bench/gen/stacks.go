package gen

// The goroutine stacks dockerd 17.03 printed in the incident. The first is
// the one in the incident's log (docs/incident.md), frame for frame; the
// others are the shapes a dump of a wedged dockerd holds besides it (signal handling, containerd's
// gRPC client, idle HTTP connections, a restore waiting on its workers).
// Arguments are templates ({p} a heap pointer, {d} a small number); the
// offsets vary a little per goroutine, as they do between builds.

type frameDef struct {
	fn   string // function with its argument list template: "syscall.Open({p}, 0x78)"
	file string // "/usr/local/go/src/syscall/syscall_linux.go:51"
	off  uint32
}

type stackDef struct {
	state   string // "runnable", "chan receive", ...
	minutes bool   // the header carries ", N minutes" (a long wait)
	weight  int    // how common the stack is in a dump
	frames  []frameDef
	created frameDef // "created by" frame: fn without arguments
}

const dockerSrc = "/usr/src/docker/.gopath/src/github.com/docker/docker/"
const goSrc = "/usr/local/go/src/"

var stackLibrary = []stackDef{
	{
		state: "runnable", weight: 60,
		frames: []frameDef{
			{"syscall.Syscall6(0x101, 0xffffffffffffff9c, {p}, 0x800c2, 0x180, 0x0, 0x0, {h}, 0x800c2, 0x0)", goSrc + "syscall/asm_linux_amd64.s:44", 0x5},
			{"syscall.openat(0xffffffffffffff9c, {p}, 0x78, 0x800c2, 0xc400000180, 0x562a7619542f, {p}, 0x78)", goSrc + "syscall/zsyscall_linux_amd64.go:40", 0xcd},
			{"syscall.Open({p}, 0x78, 0x800c2, 0xc400000180, 0x562a76193b1f, {p}, 0x2)", goSrc + "syscall/syscall_linux.go:51", 0x50},
			{"os.OpenFile({p}, 0x78, 0xc2, 0xc400000180, 0x78, {p}, 0x1c)", goSrc + "os/file_unix.go:97", 0x80},
			{"io/ioutil.TempFile({p}, 0x5b, {p}, 0x13, 0xe, {p}, 0x13)", goSrc + "io/ioutil/tempfile.go:55", 0x159},
			{"github.com/docker/docker/pkg/ioutils.NewAtomicFileWriter({p}, 0x6a, 0x1a4, 0x0, 0x0, 0x0, 0x0)", dockerSrc + "pkg/ioutils/fswriters.go:14", 0xe2},
			{"github.com/docker/docker/container.(*Container).ToDisk({p}, 0x0, 0x0)", dockerSrc + "container/container.go:155", 0xad},
			{"github.com/docker/docker/container.(*Container).ToDiskLocking({p}, {p}, {p})", dockerSrc + "container/container.go:174", 0x3f},
			{"github.com/docker/docker/daemon.(*Daemon).restore.func1({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})", dockerSrc + "daemon/daemon.go:198", 0xbe},
		},
		created: frameDef{"github.com/docker/docker/daemon.(*Daemon).restore", dockerSrc + "daemon/daemon.go:275", 0x78a},
	},
	{
		state: "IO wait", minutes: true, weight: 20,
		frames: []frameDef{
			{"net.runtime_pollWait(0x7f3c8a6b1e30, 0x72, 0x7)", goSrc + "runtime/netpoll.go:164", 0x59},
			{"net.(*pollDesc).wait({p}, 0x72, 0x0, 0x0)", goSrc + "net/fd_poll_runtime.go:75", 0x38},
			{"net.(*pollDesc).waitRead({p}, {p}, 0x1000)", goSrc + "net/fd_poll_runtime.go:80", 0x34},
			{"net.(*netFD).Read({p}, {p}, 0x1000, 0x1000, 0x0, 0x55f0a3e1c0a0, {p})", goSrc + "net/fd_unix.go:250", 0x1b9},
			{"net.(*conn).Read({p}, {p}, 0x1000, 0x1000, 0x0, 0x0, 0x0)", goSrc + "net/net.go:181", 0x70},
			{"bufio.(*Reader).fill({p})", goSrc + "bufio/bufio.go:97", 0x117},
			{"bufio.(*Reader).Peek({p}, 0x1, 0x0, 0x0, 0x0, 0x0, 0x0)", goSrc + "bufio/bufio.go:129", 0x3a},
			{"net/http.(*persistConn).readLoop({p})", goSrc + "net/http/transport.go:1418", 0x1a1},
		},
		created: frameDef{"net/http.(*Transport).dialConn", goSrc + "net/http/transport.go:1062", 0x4e9},
	},
	{
		state: "select", weight: 10,
		frames: []frameDef{
			{"github.com/docker/docker/vendor/google.golang.org/grpc/transport.(*http2Client).controller({p})", dockerSrc + "vendor/google.golang.org/grpc/transport/http2_client.go:1088", 0x5f5},
		},
		created: frameDef{"github.com/docker/docker/vendor/google.golang.org/grpc/transport.newHTTP2Client", dockerSrc + "vendor/google.golang.org/grpc/transport/http2_client.go:256", 0xc5e},
	},
	{
		state: "chan receive", minutes: true, weight: 5,
		frames: []frameDef{
			{"github.com/docker/docker/pkg/signal.Trap.func1({p}, {p}, {p})", dockerSrc + "pkg/signal/trap.go:39", 0x8b},
		},
		created: frameDef{"github.com/docker/docker/pkg/signal.Trap", dockerSrc + "pkg/signal/trap.go:76", 0x162},
	},
	{
		state: "semacquire", minutes: true, weight: 5,
		frames: []frameDef{
			{"sync.runtime_Semacquire({p})", goSrc + "runtime/sema.go:47", 0x34},
			{"sync.(*WaitGroup).Wait({p})", goSrc + "sync/waitgroup.go:131", 0x7a},
			{"github.com/docker/docker/daemon.(*Daemon).restore({p}, {p}, {p})", dockerSrc + "daemon/daemon.go:277", 0x2e1},
			{"github.com/docker/docker/daemon.NewDaemon({p}, {p}, {p}, {p}, 0x0, 0x0)", dockerSrc + "daemon/daemon.go:732", 0x2a17},
			{"main.(*DaemonCli).start({p}, {p}, 0x0, 0x0)", dockerSrc + "cmd/dockerd/daemon.go:255", 0x19a2},
			{"main.runDaemon({p}, {p}, 0x0)", dockerSrc + "cmd/dockerd/docker.go:78", 0xb2},
		},
		created: frameDef{"main.main", dockerSrc + "cmd/dockerd/docker.go:109", 0x6f},
	},
}
