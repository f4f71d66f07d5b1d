package relay

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/ratelimit"
	"github.com/floodgate/floodgate/relay/output"
)

// The checkpoint keeps the live relay's pending summary counts on disk, so
// that a crash (SIGKILL, a power cut after the page cache reached the
// disk) loses no count silently: the next start writes, per source, a
// suppressed summary of reason "crash" for what the checkpoint held.
//
// Each shard copies its stages' pending counts on every tick (and at
// least once a second) into a slice it owns and hands it over under a
// short lock; one writer goroutine aggregates them per source and writes
// the file atomically: a temporary file, fsync, rename, fsync of the
// directory. Nothing is done per message.
//
// No message is both written and counted: a summary (or a held line
// written in place of a count, Record.Counted) is handed to the outputs
// only once a checkpoint taken after it was emitted, and so without its
// count, is on disk. Until then the shard's sink holds it back. A crash
// in between loses the held records' counts (they are neither in the
// checkpoint nor written): the checkpoint errs on the side of loss, by at
// most what one tick emits, never on the side of a double count. Lines
// written after the summary that was held back may come before it in
// the files; the count is the same.

// checkpointFile is the checkpoint's name in the state directory.
const checkpointFile = "checkpoint.json"

// checkpointEvery is the longest time between two checkpoints of a shard.
const checkpointEvery = time.Second

// finalAckWait bounds how long a shard's final tick waits for its last
// checkpoint to be written before writing its held records regardless.
const finalAckWait = 5 * time.Second

// Events of floodgate's own records about the checkpoint.
const eventCrashRecovered = "crash_recovered"

// reasonCrash and reasonOversize name the suppressed summaries the relay
// itself writes.
const (
	reasonCrash    = "crash"
	reasonOversize = "oversize"
)

// checkpointState is the file's content.
type checkpointState struct {
	Version int                `json:"version"`
	Sources []checkpointSource `json:"sources"`
}

// checkpointSource is what one source had pending.
type checkpointSource struct {
	Host     string             `json:"host"`
	App      string             `json:"app"`
	Facility floodgate.Facility `json:"facility"`
	Severity floodgate.Severity `json:"severity"`
	Count    int64              `json:"count"`
	First    time.Time          `json:"first"`
	Last     time.Time          `json:"last"`
	// Kinds splits Count by what held it: "repeat", "block", "cycle",
	// "suppressed budget", ...
	Kinds map[string]int64 `json:"kinds"`
}

// checkpointer writes the checkpoint for every shard of a Server.
type checkpointer struct {
	dir, path string
	log       *slog.Logger

	mu    sync.Mutex
	snaps []ckSnap // per shard, the latest handed over

	wake  chan struct{}
	acks  []atomic.Uint64 // per shard, the last generation on disk
	ackCh []chan struct{}
	stop  chan struct{}
	done  chan struct{}
	gens  []uint64
	agg   map[[2]string]*checkpointSource
	last  []byte // what the file holds now; nil when unknown or absent

	writes, failures atomic.Int64
	// recovered is what this run wrote as crash summaries.
	recovered atomic.Int64
	// beforeWrite, when set (tests), runs in the writer before every
	// write.
	beforeWrite func()
}

// ckSnap is one shard's pending counts as of generation gen.
type ckSnap struct {
	gen     uint64
	entries []floodgate.Pending
}

// openCheckpoint creates the state directory and reads the checkpoint a
// previous run left, if any (nil when there is none or it says nothing is
// pending). The writer starts with start.
func openCheckpoint(dir string, shards int, log *slog.Logger) (*checkpointer, *checkpointState, time.Time, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("create state_dir: %w", err)
	}
	c := &checkpointer{
		dir:   dir,
		path:  filepath.Join(dir, checkpointFile),
		log:   log,
		snaps: make([]ckSnap, shards),
		wake:  make(chan struct{}, 1),
		acks:  make([]atomic.Uint64, shards),
		ackCh: make([]chan struct{}, shards),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		gens:  make([]uint64, shards),
		agg:   map[[2]string]*checkpointSource{},
	}
	for i := range c.ackCh {
		c.ackCh[i] = make(chan struct{}, 1)
	}
	old, at, err := readCheckpoint(c.path)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	return c, old, at, nil
}

// readCheckpoint reads the checkpoint at path and its time; nil when there
// is none or nothing was pending.
func readCheckpoint(path string) (*checkpointState, time.Time, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read checkpoint: %w", err)
	}
	var at time.Time
	if fi, err := os.Stat(path); err == nil {
		at = fi.ModTime()
	}
	var st checkpointState
	if err := json.Unmarshal(data, &st); err != nil {
		// Written by rename, a checkpoint is whole or absent: this one is
		// not ours, or the disk broke it. Its counts are lost; say so.
		return nil, at, fmt.Errorf("read checkpoint %s: %w (move it away to start without it)", path, err)
	}
	if len(st.Sources) == 0 {
		return nil, at, nil
	}
	return &st, at, nil
}

// discard removes the previous run's checkpoint for good, before the
// summaries standing for it are written: a crash in between loses them,
// never counts them twice.
func (c *checkpointer) discard() error {
	if err := os.Remove(c.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove checkpoint: %w", err)
	}
	return syncDir(c.dir)
}

// start runs the writer until close.
func (c *checkpointer) start() {
	go func() {
		defer close(c.done)
		c.loop()
	}()
}

// close stops the writer once it has written what was handed over.
func (c *checkpointer) close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
}

// put hands shard's pending counts as of gen to the writer and returns the
// slice handed over before, emptied, for the shard to fill next time.
func (c *checkpointer) put(shard int, gen uint64, entries []floodgate.Pending) []floodgate.Pending {
	c.mu.Lock()
	old := c.snaps[shard].entries
	c.snaps[shard] = ckSnap{gen: gen, entries: entries}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	clear(old)
	return old[:0]
}

// acked returns the last generation of shard on disk.
func (c *checkpointer) acked(shard int) uint64 { return c.acks[shard].Load() }

func (c *checkpointer) loop() {
	for {
		select {
		case <-c.wake:
		case <-c.stop:
			select {
			case <-c.wake:
				c.writeOnce()
			default:
			}
			return
		}
		c.writeOnce()
	}
}

// writeOnce writes what the shards handed over, then tells each shard
// which generation is on disk.
func (c *checkpointer) writeOnce() {
	c.mu.Lock()
	data := c.encode()
	for i := range c.snaps {
		c.gens[i] = c.snaps[i].gen
	}
	c.mu.Unlock()
	if c.beforeWrite != nil {
		c.beforeWrite()
	}
	if !bytes.Equal(data, c.last) {
		if err := c.write(data); err != nil {
			c.failures.Add(1)
			c.last = nil
			// A checkpoint left behind would count again what the held
			// summaries are about to write: remove it, and lose the
			// counts on a crash instead.
			if rerr := os.Remove(c.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				c.log.Error("write checkpoint; removing the old one failed too: a crash now may count messages twice", "err", err, "remove_err", rerr)
			} else {
				c.log.Warn("write checkpoint; a crash now loses pending counts", "err", err)
			}
		} else {
			c.writes.Add(1)
			c.last = data
		}
	}
	for i, g := range c.gens {
		if g > c.acks[i].Load() {
			c.acks[i].Store(g)
			select {
			case c.ackCh[i] <- struct{}{}:
			default:
			}
		}
	}
}

// encode aggregates the shards' counts per source into the file's content.
// Called with mu held.
func (c *checkpointer) encode() []byte {
	clear(c.agg)
	for _, s := range c.snaps {
		for i := range s.entries {
			p := &s.entries[i]
			k := [2]string{p.Host, p.App}
			a := c.agg[k]
			if a == nil {
				a = &checkpointSource{Host: p.Host, App: p.App, Facility: p.Facility, Severity: p.Severity,
					First: p.First, Last: p.Last, Kinds: map[string]int64{}}
				c.agg[k] = a
			}
			a.Count += p.Count
			a.Severity = min(a.Severity, p.Severity)
			if p.First.Before(a.First) {
				a.First = p.First
			}
			if p.Last.After(a.Last) {
				a.Last = p.Last
			}
			kind := p.Kind.String()
			if p.Reason != "" {
				kind += " " + p.Reason
			}
			a.Kinds[kind] += p.Count
		}
	}
	st := checkpointState{Version: 1, Sources: make([]checkpointSource, 0, len(c.agg))}
	for _, a := range c.agg {
		st.Sources = append(st.Sources, *a)
	}
	slices.SortFunc(st.Sources, func(a, b checkpointSource) int {
		return cmp.Or(cmp.Compare(a.Host, b.Host), cmp.Compare(a.App, b.App))
	})
	data, _ := json.Marshal(st) // plain types: cannot fail
	return append(data, '\n')
}

// write replaces the checkpoint atomically: a temporary file, fsync,
// rename, fsync of the directory.
func (c *checkpointer) write(data []byte) error {
	tmp := c.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, c.path)
	}
	if err != nil {
		_ = os.Remove(tmp) // best effort: the error is what matters
		return err
	}
	return syncDir(c.dir)
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// shardCheckpoint is one shard's part: it holds back the records whose
// counts may still be in the checkpoint on disk, and takes the shard's
// snapshots. Only the shard's goroutine uses it.
type shardCheckpoint struct {
	c     *checkpointer
	shard int
	gen   uint64 // of the last snapshot handed over
	held  []heldRecord
	buf   []floodgate.Pending
	// pending appends the pending counts of the shard's stages.
	pending func([]floodgate.Pending) []floodgate.Pending
	write   func(r *floodgate.Record)
}

// heldRecord is a record held back until generation gen is on disk.
type heldRecord struct {
	gen uint64
	r   floodgate.Record
}

// holds reports whether r must wait for the checkpoint: a summary, or a
// line written in place of a pending count.
func holds(r *floodgate.Record) bool { return r.Summary != nil || r.Counted }

// hold keeps a copy of r until the next snapshot is on disk.
func (s *shardCheckpoint) hold(r *floodgate.Record) {
	h := heldRecord{gen: s.gen + 1, r: *r}
	if r.Summary != nil {
		sm := *r.Summary
		h.r.Summary = &sm
	}
	s.held = append(s.held, h)
}

// snapshot hands the shard's pending counts to the writer.
func (s *shardCheckpoint) snapshot() {
	s.buf = s.pending(s.buf[:0])
	s.gen++
	s.buf = s.c.put(s.shard, s.gen, s.buf)
}

// release writes the held records whose checkpoint is on disk, in order.
func (s *shardCheckpoint) release() {
	if len(s.held) == 0 {
		return
	}
	acked := s.c.acked(s.shard)
	n := 0
	for n < len(s.held) && s.held[n].gen <= acked {
		s.write(&s.held[n].r)
		n++
	}
	s.dropHeld(n)
}

func (s *shardCheckpoint) dropHeld(n int) {
	if n == 0 {
		return
	}
	k := copy(s.held, s.held[n:])
	clear(s.held[k:])
	s.held = s.held[:k]
}

// tick takes a snapshot, then writes what is acknowledged; at final it
// waits for the last snapshot to be on disk and writes everything.
func (s *shardCheckpoint) tick(final bool) {
	s.snapshot()
	if final {
		s.waitAck(s.gen)
		for i := range s.held {
			s.write(&s.held[i].r)
		}
		s.dropHeld(len(s.held))
		return
	}
	s.release()
}

// waitAck waits for generation gen to be on disk, up to finalAckWait.
func (s *shardCheckpoint) waitAck(gen uint64) {
	t := time.NewTimer(finalAckWait)
	defer t.Stop()
	for s.c.acked(s.shard) < gen {
		select {
		case <-s.c.ackCh[s.shard]:
		case <-t.C:
			s.c.log.Error("checkpoint not written at shutdown: the next start may count messages twice", "shard", s.shard)
			return
		}
	}
}

// crashRecords turns a previous run's checkpoint into the records that
// account for it: a suppressed summary of reason crash per source, and one
// record of floodgate's own saying what happened. at is when the
// checkpoint was written.
func crashRecords(st *checkpointState, at time.Time, host string) []floodgate.Record {
	if host == "" {
		host = ratelimit.InternalHost
	}
	var recs []floodgate.Record
	var total int64
	for _, s := range st.Sources {
		if s.Count <= 0 {
			continue
		}
		total += s.Count
		noun := "messages"
		if s.Count == 1 {
			noun = "message"
		}
		text := fmt.Sprintf("%d %s from %s/%s were received and counted, not yet written, when floodgate stopped without shutting down (checkpoint of %s)",
			s.Count, noun, s.Host, s.App, at.UTC().Format(time.RFC3339))
		recs = append(recs, floodgate.Record{
			Message: floodgate.Message{
				Time: s.Last, Host: s.Host, App: s.App,
				Facility: s.Facility, Severity: s.Severity,
				Text: text, Syntax: floodgate.Internal, Size: len(text),
			},
			Summary: &floodgate.Summary{
				Kind:  floodgate.Suppressed,
				FP:    reasonFP(s.Host, s.App, reasonCrash),
				Count: s.Count,
				First: s.First,
				Last:  s.Last,
				Fields: []floodgate.Field{
					{Key: "reason", Value: reasonCrash},
					{Key: "checkpoint", Value: at.UTC().Format(time.RFC3339Nano)},
					{Key: "kinds", Value: s.Kinds},
				},
			},
		})
	}
	if total == 0 {
		return nil
	}
	syslogFacility, _ := floodgate.ParseFacility("syslog")
	text := fmt.Sprintf("recovered from a crash: %d messages of %d sources were counted in the checkpoint of %s and are written as suppressed summaries of reason crash",
		total, len(recs), at.UTC().Format(time.RFC3339))
	recs = append(recs, floodgate.Record{Message: floodgate.Message{
		Time: time.Now(), Host: host, App: ratelimit.InternalApp, Event: eventCrashRecovered,
		Facility: syslogFacility, Severity: floodgate.Warning,
		Text: text, Syntax: floodgate.Internal, Size: len(text),
	}})
	return recs
}

// reasonFP is the fingerprint of the relay's own suppressed summaries of a
// source for a reason: the same across runs.
func reasonFP(host, app, reason string) string {
	var d xxhash.Digest
	d.Reset()
	for _, f := range [...]string{host, app, reason} {
		_, _ = d.WriteString(f)
		_, _ = d.Write([]byte{0})
	}
	return fmt.Sprintf("%08x", uint32(d.Sum64()>>32))
}

// recoverCrash writes the records that account for a previous run's
// checkpoint to outs, once the checkpoint is gone from disk, and flushes
// them; it returns how many messages they stand for.
func recoverCrash(c *checkpointer, st *checkpointState, at time.Time, host string, outs []output.Output) (int64, error) {
	if err := c.discard(); err != nil {
		return 0, err
	}
	var n int64
	var errs []error
	for _, r := range crashRecords(st, at, host) {
		if r.Summary != nil {
			n += r.Summary.Count
		}
		for _, o := range outs {
			if err := o.Write(&r); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, o := range outs {
		errs = append(errs, o.Flush())
	}
	c.recovered.Store(n)
	return n, errors.Join(errs...)
}
