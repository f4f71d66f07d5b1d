package forward

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/relay/output"
)

// kafkaRecords is how many records TestKafkaRoundTrip sends: 1 M, or
// fewer where the race detector or -short would make that take minutes
// on two cores; FLOODGATE_KAFKA_RECORDS sets it.
func kafkaRecords(t *testing.T) int {
	if s := os.Getenv("FLOODGATE_KAFKA_RECORDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("FLOODGATE_KAFKA_RECORDS=%q: %v", s, err)
		}
		return n
	}
	switch {
	case testing.Short():
		return 20_000
	case raceEnabled:
		return 100_000
	}
	return 1_000_000
}

func newCluster(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "syslog"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func openKafka(t *testing.T, brokers []string, o Options) (*Output, *output.Stats) {
	t.Helper()
	o.Type, o.Brokers, o.Topic = TypeKafka, brokers, "syslog"
	o.ReconnectMin, o.ReconnectMax = 5*time.Millisecond, 50*time.Millisecond
	st := &output.Stats{}
	f, err := New(o, nil, st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, st
}

// kafkaRecord is the JSON of docs/output-format.md, as far as the test
// reads it.
type kafkaRecord struct {
	Time     time.Time `json:"time"`
	Host     string    `json:"host"`
	App      string    `json:"app"`
	Severity string    `json:"severity"`
	Msg      string    `json:"msg"`
	Summary  *struct {
		Kind  string `json:"kind"`
		Count int64  `json:"count"`
	} `json:"summary"`
}

// consume reads the topic from the start until want records came, and
// returns them by key in partition order.
func consume(t *testing.T, brokers []string, want int) map[string][]kafkaRecord {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics("syslog"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	byKey := map[string][]kafkaRecord{}
	got := 0
	for got < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d records of %d: %v", got, want, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			var kr kafkaRecord
			if err := json.Unmarshal(r.Value, &kr); err != nil {
				t.Fatalf("record %q is not JSON: %v", r.Value, err)
			}
			if key := kr.Host + "/" + kr.App; string(r.Key) != key {
				t.Fatalf("key %q, want %q", r.Key, key)
			}
			byKey[string(r.Key)] = append(byKey[string(r.Key)], kr)
			got++
		})
	}
	return byKey
}

func TestKafkaRoundTrip(t *testing.T) {
	n := kafkaRecords(t)
	c := newCluster(t)
	f, st := openKafka(t, c.ListenAddrs(), Options{MaxBuffer: 64 << 20})
	const hosts = 8
	start := time.Now()
	for i := range n {
		r := &floodgate.Record{Message: floodgate.Message{
			Time: t0.Add(time.Duration(i) * time.Microsecond), Host: fmt.Sprintf("node-%d", i%hosts), App: "kubelet",
			Severity: floodgate.Info, Facility: 3, Text: fmt.Sprintf("pod %d synced", i/hosts), Syntax: floodgate.SyntaxRFC3164,
		}}
		if err := f.Write(r); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
		if i%4096 == 0 && f.Queue().MemBytes > 32<<20 {
			// Back-pressure of the test's own: Write never waits.
			waitFor(t, "the queue to drain", func() bool { return f.Queue().MemBytes < 16<<20 })
		}
	}
	waitFor(t, "every record acknowledged", func() bool { return f.Queue().Sent == int64(n) })
	sent := time.Since(start)
	byKey := consume(t, c.ListenAddrs(), n)
	t.Logf("%d records produced and acknowledged in %v (%.0f/s), read back", n, sent.Round(time.Millisecond), float64(n)/sent.Seconds())
	if len(byKey) != hosts {
		t.Fatalf("%d keys, want %d", len(byKey), hosts)
	}
	for key, recs := range byKey {
		if len(recs) != n/hosts {
			t.Errorf("%s: %d records, want %d", key, len(recs), n/hosts)
		}
		for j, kr := range recs {
			if want := fmt.Sprintf("pod %d synced", j); kr.Msg != want || kr.Severity != "info" {
				t.Fatalf("%s record %d = %+v, want %q: lost, repeated or out of order", key, j, kr, want)
			}
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if st.Records.Load() != int64(n) || st.Lost.Load() != 0 {
		t.Errorf("Records = %d, Lost = %d", st.Records.Load(), st.Lost.Load())
	}
}

// TestKafkaBrokerDown: with the cluster unreachable records wait in the
// queue, spill to disk at Close, and a later run delivers them, with the
// summary of those that found no room.
func TestKafkaBrokerDown(t *testing.T) {
	c := newCluster(t)
	brokers := c.ListenAddrs()
	dir := t.TempDir()
	// A port nothing listens on stands for the cluster being down.
	down := newReceiver(t, nil).addr
	o := Options{QueueDir: dir, MaxBuffer: 64 << 10, QueueMax: 1 << 20, Timeout: time.Second}
	f, _ := openKafka(t, []string{down}, o)
	const n = 20000
	for i := range n {
		_ = f.Write(msg(i)) // some are dropped, and owed a summary
	}
	if q := f.Queue(); q.Up || q.Sent != 0 || q.Dropped == 0 {
		t.Fatalf("Queue() with the brokers down = %+v", q)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f2, _ := openKafka(t, brokers, o)
	waitFor(t, "the queue to drain", func() bool { q := f2.Queue(); return q.Up && q.MemRecords == 0 && q.DiskRecords == 0 })
	sent := f2.Queue().Sent
	recs := consume(t, brokers, int(sent))["web-1/api"]
	var verbatim, counted int64
	for j, kr := range recs {
		if kr.Summary != nil {
			if kr.Summary.Kind != "suppressed" {
				t.Errorf("summary kind %q", kr.Summary.Kind)
			}
			counted += kr.Summary.Count
			continue
		}
		if !strings.HasPrefix(kr.Msg, "request ") {
			t.Fatalf("record %d = %+v", j, kr)
		}
		verbatim++
	}
	if verbatim+counted != n {
		t.Errorf("verbatim %d + counted %d != %d received", verbatim, counted, n)
	}
}

func TestKafkaTLS(t *testing.T) {
	cs := certs(t)
	other := certs(t)
	tests := []struct {
		name     string
		opts     Options
		delivers bool
	}{
		{name: "mutual", opts: Options{CA: cs.CA, Cert: cs.ClientCert, Key: cs.ClientKey}, delivers: true},
		{name: "unknown CA", opts: Options{CA: other.CA, Cert: cs.ClientCert, Key: cs.ClientKey}},
		{name: "no client certificate", opts: Options{CA: cs.CA}},
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "syslog"), kfake.TLS(cs.ServerConfig(true)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Protocol, o.Timeout = "tls", 2*time.Second
			f, _ := openKafka(t, c.ListenAddrs(), o)
			for i := range 1000 {
				if err := f.Write(msg(i)); err != nil {
					t.Fatal(err)
				}
			}
			if !tt.delivers {
				waitFor(t, "failed connects", func() bool { return f.Queue().ConnectErrors >= 2 })
				if q := f.Queue(); q.Up || q.Sent != 0 || q.MemRecords != 1000 {
					t.Fatalf("Queue() = %+v, want 1000 held and the brokers unreachable", q)
				}
				return
			}
			waitFor(t, "every record acknowledged", func() bool { return f.Queue().Sent == 1000 })
		})
	}
	// What the mutual case produced can be read back over TLS.
	cfg := &tls.Config{RootCAs: cs.Pool, Certificates: []tls.Certificate{cs.Client}, MinVersion: tls.VersionTLS12}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DialTLSConfig(cfg), kgo.ConsumeTopics("syslog"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := 0
	for got < 1000 && ctx.Err() == nil {
		got += cl.PollFetches(ctx).NumRecords()
	}
	if got != 1000 {
		t.Errorf("read back %d records over TLS, want 1000", got)
	}
}
