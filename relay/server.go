package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/floodgate/floodgate"

	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/relay/input"
)

// Server runs the relay live: listeners, the pipeline, outputs and the
// metrics endpoint.
type Server struct {
	cfg *config.Config
	log *slog.Logger

	*core
	// mu guards listeners and changed, which a reload replaces;
	// listeners[i] serves cfg.Inputs[i].
	mu        sync.Mutex
	listeners []*input.Listener
	changed   chan struct{}  // closed when a reload changes the inputs
	inStats   []*input.Stats // inStats[i] counts for listeners[i]
	metrics   *metrics
	live      *liveTable    // nil without a metrics address
	ck        *checkpointer // nil without a state_dir
	httpSrv   *http.Server

	stop chan struct{}
	wg   sync.WaitGroup

	closeOnce sync.Once // outputs: Shutdown and an aborting Close may race
	closeErr  error
}

// NewServer opens the outputs and starts the pipeline; Start binds the
// sockets.
func NewServer(cfg *config.Config, log *slog.Logger) (*Server, error) {
	s := &Server{cfg: cfg, log: log, stop: make(chan struct{}), changed: make(chan struct{})}
	s.metrics = newMetrics()
	shards := cfg.Relay.Shards
	if shards == 0 {
		shards = runtime.GOMAXPROCS(0)
	}
	loops := newLoopTable(log.With("component", "dedupe"))
	local := localHosts(cfg.Inputs)
	if cfg.Metrics.Address != "" {
		token, err := apiToken(cfg.Metrics)
		if err != nil {
			return nil, err
		}
		s.live = newLiveTable(shards, cfg.Metrics.Sources)
		s.metrics.setLive(s.live, token, loops)
	}
	var ck *checkpointer
	var crashed *checkpointState
	var crashedAt time.Time
	if dir := cfg.Relay.StateDir; dir != "" {
		var err error
		ck, crashed, crashedAt, err = openCheckpoint(dir, shards, log.With("component", "checkpoint"))
		if err != nil {
			return nil, err
		}
	}
	c, err := newCore(cfg, coreOptions{
		outputs:    configuredOutputs(cfg),
		shards:     shards,
		tick:       cfg.Relay.FlushInterval.D(),
		clock:      wallClock,
		local:      local,
		loops:      loops,
		onOutput:   s.metrics.addOutput,
		live:       s.live,
		checkpoint: ck,
	}, log)
	if err != nil {
		return nil, err
	}
	s.core = c
	s.ck = ck
	s.metrics.checkpoint = ck
	if ck != nil {
		if crashed != nil {
			host, _ := os.Hostname()
			n, err := recoverCrash(ck, crashed, crashedAt, host, c.outs)
			if err != nil {
				ck.start() // the shards' final ticks wait for it
				c.pipe.Close()
				ck.close()
				_ = c.closeOutputs() // the recovery's error is the one to report
				return nil, fmt.Errorf("recover checkpoint: %w", err)
			}
			log.Warn("recovered counts from a crash", "messages", n, "sources", len(crashed.Sources), "checkpoint", crashedAt)
		}
		ck.start()
	}
	s.metrics.setPipeline(c.pipe, c.builder, loops)
	return s, nil
}

// localHosts names this machine as the host of what arrives without one
// on each local input.
func localHosts(inputs []config.Input) map[string]string {
	local := map[string]string{}
	if h, err := os.Hostname(); err == nil {
		for _, ic := range inputs {
			if ic.Type == "unix" || ic.Type == "unixgram" || ic.Type == "stdin" {
				local[ic.Name] = h
			}
		}
	}
	return local
}

// shardBy keeps what one budget bucket charges on one shard.
func shardBy(cfg *config.Config) func(*floodgate.Message) uint64 {
	if !cfg.RateLimit.Enabled {
		return shardByHostApp
	}
	return shardByKey(cfg.RateLimit.Key)
}

// Start binds every input and the metrics endpoint before returning, so
// that a bind error reaches the caller, then serves in goroutines the
// server owns.
func (s *Server) Start() error {
	for _, ic := range s.cfg.Inputs {
		st := &input.Stats{}
		l, err := s.listen(ic, st)
		if err != nil {
			s.Close()
			return err
		}
		s.listeners = append(s.listeners, l)
		s.inStats = append(s.inStats, st)
		s.metrics.addInput(ic.Name, st, l.Addr())
	}
	s.warnUnclaimedSockets()
	if addr := s.cfg.Metrics.Address; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			s.Close()
			return fmt.Errorf("listen metrics %s: %w", addr, err)
		}
		s.httpSrv = &http.Server{Handler: s.metrics.handler(), ReadHeaderTimeout: 5 * time.Second}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("metrics server stopped", "err", err)
			}
		}()
		s.log.Info("serving metrics", "address", ln.Addr().String())
	}
	s.wg.Add(1)
	go func(every time.Duration) {
		defer s.wg.Done()
		s.flushLoop(every)
	}(s.cfg.Relay.FlushInterval.D())
	if s.live != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.sampleLoop()
		}()
	}
	return nil
}

// listen binds one input and serves it, counting into st.
func (s *Server) listen(ic config.Input, st *input.Stats) (*input.Listener, error) {
	o, err := inputOptions(ic)
	if err != nil {
		return nil, err
	}
	l, err := input.Listen(o, s.pipe, st, s.log.With("component", "input", "input", ic.Name))
	if err != nil {
		return nil, bindError(err)
	}
	s.log.Info("listening", "input", ic.Name, "address", l.Addr().String())
	return l, nil
}

// bindError returns net's own error when err wraps one of a listen: it
// already says "listen tcp ADDR: bind: ...", which a wrapping saying the
// same would print twice.
func bindError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "listen" {
		return op
	}
	return err
}

// Config returns the config running: the one given to NewServer, or the
// last one Reload applied.
func (s *Server) Config() *config.Config { return s.cfg }

// SetVersion names the version floodgate_build_info reports.
func (s *Server) SetVersion(v string) { s.metrics.setVersion(v) }

// sampleLoop keeps the live table's history, once a second.
func (s *Server) sampleLoop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.live.sample()
		}
	}
}

// apiToken returns the bearer token the live views ask for, "" for none.
func apiToken(m config.Metrics) (string, error) {
	if m.TokenFile == "" {
		return m.Token, nil
	}
	b, err := os.ReadFile(m.TokenFile)
	if err != nil {
		return "", fmt.Errorf("read metrics token_file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("metrics token_file %s is empty", m.TokenFile)
	}
	return t, nil
}

// ReloadCertificates reads the certificate files of every tls input
// again (SIGHUP). An input whose files do not load keeps the certificates
// it has, and says so in its log and metrics; the failures are returned,
// joined.
func (s *Server) ReloadCertificates() error {
	s.mu.Lock()
	ls := s.listeners
	s.mu.Unlock()
	var errs []error
	for _, l := range ls {
		errs = append(errs, l.ReloadTLS())
	}
	return errors.Join(errs...)
}

// Flush writes every output's buffers out now.
func (s *Server) Flush() error { return s.flush() }

// flushLoop writes output buffers out on the flush interval.
func (s *Server) flushLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.Flush(); err != nil {
				s.log.Warn("flush output", "err", err)
			}
		}
	}
}

// Done returns a channel that is closed when every input has ended on
// its own: where stdin is the only input, at its end (a sidecar's pipe
// closing), which the caller takes as a signal to shut down. A socket
// input never ends on its own. Call it after Start; it follows the inputs
// a reload sets.
func (s *Server) Done() <-chan struct{} {
	done := make(chan struct{})
	go func() {
	again:
		s.mu.Lock()
		ls, changed := s.listeners, s.changed
		s.mu.Unlock()
		for _, l := range ls {
			select {
			case <-l.Done():
			case <-changed:
				goto again
			}
		}
		close(done)
	}()
	return done
}

// Addrs returns the bound address of each input, in config order.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := make([]net.Addr, len(s.listeners))
	for i, l := range s.listeners {
		a[i] = l.Addr()
	}
	return a
}

// Shutdown stops accepting connections, reads what connected clients send
// until they close or ctx is done, processes everything read, emits every
// pending summary, flushes and closes the outputs. It returns every error
// but the drain deadline's, joined.
func (s *Server) Shutdown(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s.listeners))
	for i, l := range s.listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = l.Shutdown(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if errors.Is(err, context.DeadlineExceeded) {
			errs[i] = nil // clients still sending at the deadline are cut off, as asked
		}
	}
	s.pipe.Close()
	s.closeCheckpoint()
	close(s.stop)
	if s.httpSrv != nil {
		hctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.httpSrv.Shutdown(hctx) // a scrape cut short at exit is harmless
		cancel()
	}
	s.wg.Wait()
	return errors.Join(append(errs, s.closeOnceOutputs())...)
}

// Close aborts: it closes sockets without draining clients, stops the
// shards once they have the batches already queued, and closes the
// outputs. No goroutine of the server outlives it.
func (s *Server) Close() error {
	for _, l := range s.listeners {
		_ = l.Close() // aborting: nothing more to do with the error
	}
	if s.httpSrv != nil {
		_ = s.httpSrv.Close()
	}
	// The listeners' goroutines have exited, so nothing delivers any more.
	s.pipe.Close()
	s.closeCheckpoint()
	return s.closeOnceOutputs()
}

// closeCheckpoint stops the checkpoint's writer once the shards' final
// ticks have written their last checkpoint, which holds nothing pending.
func (s *Server) closeCheckpoint() {
	if s.ck != nil {
		s.ck.close()
	}
}

func (s *Server) closeOnceOutputs() error {
	s.closeOnce.Do(func() { s.closeErr = s.closeOutputs() })
	return s.closeErr
}
