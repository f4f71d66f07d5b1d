package relay

import (
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/relay/input"
	"github.com/floodgate/floodgate/relay/output"
	"github.com/floodgate/floodgate/relay/output/forward"
)

// Metric names, all in one place.
const (
	metricInputMessages    = "floodgate_input_messages_total"
	metricInputBytes       = "floodgate_input_bytes_total"
	metricInputTruncated   = "floodgate_input_truncated_total"
	metricInputOversize    = "floodgate_input_oversize_skipped_total"
	metricInputBadFrames   = "floodgate_input_bad_frames_total"
	metricInputConnsOpen   = "floodgate_input_connections_open"
	metricInputConnsAcc    = "floodgate_input_connections_accepted_total"
	metricInputConnsRej    = "floodgate_input_connections_rejected_total"
	metricInputIdle        = "floodgate_input_idle_timeouts_total"
	metricInputFrameTO     = "floodgate_input_frame_timeouts_total"
	metricInputEvicted     = "floodgate_input_connections_evicted_total"
	metricInputSkipped     = "floodgate_input_skipped_bytes_total"
	metricInputTLSErrors   = "floodgate_input_tls_handshake_errors_total"
	metricInputTLSReloads  = "floodgate_input_tls_reload_errors_total"
	metricInputReadErrors  = "floodgate_input_read_errors_total"
	metricInputKernelDrops = "floodgate_input_kernel_drops_total"
	metricParsed           = "floodgate_messages_parsed_total"
	metricUnparsed         = "floodgate_messages_unparsed_total"
	metricRecords          = "floodgate_records_written_total"
	metricFolded           = "floodgate_messages_folded_total"
	metricDropped          = "floodgate_messages_dropped_total"
	metricDroppedBytes     = "floodgate_bytes_dropped_total"
	metricOutputRecords    = "floodgate_output_records_total"
	metricOutputBytes      = "floodgate_output_bytes_total"
	metricOutputErrors     = "floodgate_output_write_errors_total"
	metricOutputLost       = "floodgate_output_messages_lost_total"
	metricOutputRotations  = "floodgate_output_rotations_total"
	metricOutputOverflow   = "floodgate_output_overflow_messages_total"
	metricOutputDeleted    = "floodgate_output_deleted_writes_total"
	metricDiskLevel        = "floodgate_disk_level"
	metricRestartLoops     = "floodgate_restart_loops"
	metricRestartLoopCount = "floodgate_restart_loop_restarts"
	metricSourceMessages   = "floodgate_source_received_messages_total"
	metricSourceBytes      = "floodgate_source_received_bytes_total"
	metricSourceFolded     = "floodgate_source_folded_messages_total"
	metricSourceSuppressed = "floodgate_source_suppressed_messages_total"
	metricBuildInfo        = "floodgate_build_info"
	metricCheckpoints      = "floodgate_checkpoint_writes_total"
	metricCheckpointErrors = "floodgate_checkpoint_errors_total"
	metricCrashRecovered   = "floodgate_crash_recovered_messages"
	metricReloads          = "floodgate_reloads_total"
	metricReloadSuccess    = "floodgate_reload_last_success_timestamp_seconds"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	descInputMessages    = desc(metricInputMessages, "Messages framed by an input.", "input")
	descInputBytes       = desc(metricInputBytes, "Bytes of the messages framed by an input.", "input")
	descInputTruncated   = desc(metricInputTruncated, "Lines longer than max_message_size, delivered cut.", "input")
	descInputOversize    = desc(metricInputOversize, "Octet-counted frames longer than max_message_size, skipped.", "input")
	descInputBadFrames   = desc(metricInputBadFrames, "Frames that were not what they claimed (bad octet counts, cut short).", "input")
	descInputConnsOpen   = desc(metricInputConnsOpen, "Stream clients connected now.", "input")
	descInputConnsAcc    = desc(metricInputConnsAcc, "Stream clients accepted.", "input")
	descInputConnsRej    = desc(metricInputConnsRej, "Stream clients refused because their peer had max_connections_per_peer open, all delivering and idle.", "input")
	descInputIdle        = desc(metricInputIdle, "Stream clients closed after idle_timeout.", "input")
	descInputFrameTO     = desc(metricInputFrameTO, "Stream clients closed for not completing a frame within frame_timeout.", "input")
	descInputEvicted     = desc(metricInputEvicted, "Stream clients that had delivered nothing, closed to make room for a new one.", "input")
	descInputSkipped     = desc(metricInputSkipped, "Bytes discarded unread: oversize frames and the rest of lines too long.", "input")
	descInputTLSErrors   = desc(metricInputTLSErrors, "TLS clients closed, having delivered nothing, because their handshake failed or did not complete within handshake_timeout.", "input")
	descInputTLSReloads  = desc(metricInputTLSReloads, "Reloads (SIGHUP) of a tls input's certificate files that failed: the certificates loaded before stay in use.", "input")
	descInputReadErrors  = desc(metricInputReadErrors, "Failed reads and accepts.", "input")
	descInputKernelDrops = desc(metricInputKernelDrops, "Datagrams the kernel dropped on a UDP input's socket because floodgate did not read them in time (from /proc/net/udp).", "input")
	descParsed           = desc(metricParsed, "Messages framed and parsed by the inputs.")
	descUnparsed         = desc(metricUnparsed, "Messages that fit no syslog format, kept verbatim.")
	descRecords          = desc(metricRecords, "Records that reached the outputs, by kind (verbatim, internal, or a summary kind).", "kind")
	descFolded           = desc(metricFolded, "Messages not written verbatim but counted in a summary, by summary kind.", "kind")
	descDropped          = desc(metricDropped, "Messages the budgets withheld (each counted in a suppressed summary), by reason: budget, protected budget, global budget, disk.", "reason")
	descDroppedBytes     = desc(metricDroppedBytes, "Bytes of the messages the budgets withheld, by reason.", "reason")
	descOutputRecords    = desc(metricOutputRecords, "Records an output wrote.", "output")
	descOutputBytes      = desc(metricOutputBytes, "Bytes an output wrote.", "output")
	descOutputErrors     = desc(metricOutputErrors, "Write errors of an output (retried).", "output")
	descOutputLost       = desc(metricOutputLost, "Messages an output could not write: dropped while writes failed (each stood for by a suppressed summary) or still buffered when it closed.", "output")
	descOutputRotations  = desc(metricOutputRotations, "Files an output rotated.", "output")
	descOutputOverflow   = desc(metricOutputOverflow, "Messages a file output wrote to its overflow file: past max_files_total, or their file could not be created for want of space or inodes.", "output")
	descOutputDeleted    = desc(metricOutputDeleted, "Writes of a file output that went to a file removed under it, each written again to a new file.", "output")
	descDiskLevel        = desc(metricDiskLevel, "Free space of an output's filesystem: 0 ok, 1 under min_free, 2 under hard_min_free.", "output")
	descRestartLoops     = desc(metricRestartLoops, "Restart loops recognised (units systemd keeps restarting).")
	descRestartLoopCount = desc(metricRestartLoopCount, "Restarts counted for a unit in a restart loop.", "host", "unit")
	// The per-source series: the first metrics.sources sources to send
	// the most bytes in a second get labels of their own and keep them;
	// everything else is host="other", app="other".
	descSourceMessages   = desc(metricSourceMessages, "Messages received from a source (the top sources by bytes; the rest are host=\"other\").", "host", "app")
	descSourceBytes      = desc(metricSourceBytes, "Bytes received from a source (the top sources by bytes; the rest are host=\"other\").", "host", "app")
	descSourceFolded     = desc(metricSourceFolded, "Messages of a source counted into dedupe summaries.", "host", "app")
	descSourceSuppressed = desc(metricSourceSuppressed, "Messages of a source withheld by a budget or the disk guard.", "host", "app")
	descBuildInfo        = desc(metricBuildInfo, "Always 1; its labels name the build.", "version", "goversion")
	descCheckpoints      = desc(metricCheckpoints, "Checkpoints of the pending summary counts written to relay.state_dir.")
	descCheckpointErrors = desc(metricCheckpointErrors, "Checkpoints that could not be written (a crash then loses the pending counts).")
	descCrashRecovered   = desc(metricCrashRecovered, "Messages this run wrote as suppressed summaries of reason crash, from the checkpoint a crashed run left.")
	descReloads          = desc(metricReloads, "Config reloads (SIGHUP), by result: ok, or error (the config was refused and the old one runs on).", "result")
	descReloadSuccess    = desc(metricReloadSuccess, "When the config running was loaded: the start, or the last reload that succeeded (Unix seconds).")
	sourceDescs          = [4]*prometheus.Desc{descSourceMessages, descSourceBytes, descSourceFolded, descSourceSuppressed}
)

// metrics is the Prometheus collector of a Server. It reads counters the
// components keep themselves, so nothing on the hot path touches
// Prometheus.
type metrics struct {
	reg *prometheus.Registry

	mu      sync.Mutex
	inputs  []namedInput
	outputs []namedOutput
	pipe    *pipeline
	builder *chainBuilder
	loops   *loopTable
	live    *liveTable
	api     *api
	version string
	// checkpoint, nil without a state_dir.
	checkpoint *checkpointer
	// reloads counts reloads that failed [0] and succeeded [1]; loaded
	// is when the running config was loaded.
	reloads [2]int64
	loaded  time.Time
}

type namedInput struct {
	name    string
	stats   *input.Stats
	udpPort int // a UDP input's bound port, for the kernel's drop count
}

type namedOutput struct {
	name  string
	stats *output.Stats
	disk  interface{ DiskLevel() floodgate.DiskLevel }
	queue prometheus.Collector // a network output's queue; nil for others
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), loaded: time.Now()}
	m.reg.MustRegister(m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	m.mu.Lock()
	a := m.api
	m.mu.Unlock()
	if a != nil {
		a.register(mux)
	}
	return mux
}

func (m *metrics) addInput(name string, st *input.Stats, addr net.Addr) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inputs = append(m.inputs, namedInput{name: name, stats: st, udpPort: udpPort(addr)})
}

func (m *metrics) addOutput(name string, o output.Output, st *output.Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	no := namedOutput{name: name, stats: st}
	no.disk, _ = o.(interface{ DiskLevel() floodgate.DiskLevel })
	if q, ok := o.(*forward.Output); ok {
		no.queue = q.Collector(name) // a network output's queue
		m.reg.MustRegister(no.queue)
	}
	m.outputs = append(m.outputs, no)
}

// setInputs replaces the inputs served, after a reload.
func (m *metrics) setInputs(ins []namedInput) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inputs = ins
}

// setOutputs replaces the outputs served, after a reload: each is named
// by its place in the config, as at the start.
func (m *metrics) setOutputs(outs []output.Output, stats []*output.Stats) {
	m.mu.Lock()
	for _, no := range m.outputs {
		if no.queue != nil {
			m.reg.Unregister(no.queue)
		}
	}
	m.outputs = nil
	m.mu.Unlock()
	for i, o := range outs {
		m.addOutput(strconv.Itoa(i), o, stats[i])
	}
}

// reloaded counts a reload.
func (m *metrics) reloaded(ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ok {
		m.reloads[1]++
		m.loaded = time.Now()
	} else {
		m.reloads[0]++
	}
}

// setLive serves the live table's views and per-source series.
func (m *metrics) setLive(t *liveTable, token string, loops *loopTable) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.live = t
	m.api = &api{live: t, token: token, loops: loops, disks: func() []DiskView {
		m.mu.Lock()
		defer m.mu.Unlock()
		return diskViews(m.outputs)
	}}
}

func (m *metrics) setVersion(v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.version = v
}

func (m *metrics) setPipeline(p *pipeline, b *chainBuilder, loops *loopTable) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pipe, m.builder, m.loops = p, b, loops
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descInputMessages, descInputBytes, descInputTruncated, descInputOversize, descInputBadFrames,
		descInputConnsOpen, descInputConnsAcc, descInputConnsRej, descInputIdle, descInputReadErrors, descInputKernelDrops,
		descInputFrameTO, descInputEvicted, descInputSkipped, descInputTLSErrors, descInputTLSReloads,
		descParsed, descUnparsed, descRecords, descFolded, descDropped, descDroppedBytes,
		descOutputRecords, descOutputBytes, descOutputErrors, descOutputLost, descOutputRotations, descOutputOverflow, descOutputDeleted, descDiskLevel,
		descRestartLoops, descRestartLoopCount,
		descSourceMessages, descSourceBytes, descSourceFolded, descSourceSuppressed, descBuildInfo,
		descCheckpoints, descCheckpointErrors, descCrashRecovered,
		descReloads, descReloadSuccess,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, in := range m.inputs {
		c := in.stats.Snapshot()
		counter(descInputMessages, float64(c.Messages), in.name)
		counter(descInputBytes, float64(c.Bytes), in.name)
		counter(descInputTruncated, float64(c.Truncated), in.name)
		counter(descInputOversize, float64(c.OversizeSkipped), in.name)
		counter(descInputBadFrames, float64(c.BadFrames), in.name)
		gauge(descInputConnsOpen, float64(c.ConnectionsOpen), in.name)
		counter(descInputConnsAcc, float64(c.ConnectionsAccepted), in.name)
		counter(descInputConnsRej, float64(c.ConnectionsRejected), in.name)
		counter(descInputIdle, float64(c.IdleTimeouts), in.name)
		counter(descInputFrameTO, float64(c.FrameTimeouts), in.name)
		counter(descInputEvicted, float64(c.ConnectionsEvicted), in.name)
		counter(descInputSkipped, float64(c.SkippedBytes), in.name)
		counter(descInputTLSErrors, float64(c.TLSHandshakeErrors), in.name)
		counter(descInputTLSReloads, float64(c.TLSReloadErrors), in.name)
		counter(descInputReadErrors, float64(c.ReadErrors), in.name)
		if in.udpPort > 0 {
			if d, ok := udpDrops(in.udpPort); ok {
				counter(descInputKernelDrops, float64(d), in.name)
			}
		}
	}
	if m.pipe != nil {
		parsed, unparsed := m.pipe.Stats()
		counter(descParsed, float64(parsed))
		counter(descUnparsed, float64(unparsed))
	}
	if m.builder != nil {
		t := m.builder.totals()
		counter(descRecords, float64(t.Verbatim), "verbatim")
		counter(descRecords, float64(t.Internal), "internal")
		for k, v := range t.Summaries {
			counter(descRecords, float64(v), k)
		}
		for k, v := range t.Folded {
			counter(descFolded, float64(v), k)
		}
		for k, v := range t.Dropped {
			counter(descDropped, float64(v), k)
			counter(descDroppedBytes, float64(t.DroppedBytes[k]), k)
		}
	}
	if c := m.checkpoint; c != nil {
		counter(descCheckpoints, float64(c.writes.Load()))
		counter(descCheckpointErrors, float64(c.failures.Load()))
		gauge(descCrashRecovered, float64(c.recovered.Load()))
	}
	for _, o := range m.outputs {
		collectOutput(o, counter)
		if o.disk != nil {
			gauge(descDiskLevel, float64(o.disk.DiskLevel()), o.name)
		}
	}
	version := m.version
	if version == "" {
		version = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
	}
	gauge(descBuildInfo, 1, version, runtime.Version())
	counter(descReloads, float64(m.reloads[0]), "error")
	counter(descReloads, float64(m.reloads[1]), "ok")
	gauge(descReloadSuccess, float64(m.loaded.UnixNano())/1e9)
	if m.live != nil {
		for _, s := range m.live.series() {
			for i, d := range sourceDescs {
				counter(d, float64(s.Values[i]), s.Host, s.App)
			}
		}
	}
	if m.loops != nil {
		loops := m.loops.snapshot()
		gauge(descRestartLoops, float64(len(loops)))
		for _, l := range loops {
			gauge(descRestartLoopCount, float64(l.Restarts), l.Host, l.Unit)
		}
	}
}

func collectOutput(o namedOutput, counter func(*prometheus.Desc, float64, ...string)) {
	s := o.stats
	counter(descOutputRecords, float64(s.Records.Load()), o.name)
	counter(descOutputBytes, float64(s.Bytes.Load()), o.name)
	counter(descOutputErrors, float64(s.WriteErrors.Load()), o.name)
	counter(descOutputLost, float64(s.Lost.Load()), o.name)
	counter(descOutputRotations, float64(s.FilesRotated.Load()), o.name)
	counter(descOutputOverflow, float64(s.Overflow.Load()), o.name)
	counter(descOutputDeleted, float64(s.FilesDeleted.Load()), o.name)
}
