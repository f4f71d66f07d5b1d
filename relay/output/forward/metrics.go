package forward

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names of a network output, all in one place.
const (
	metricQueueRecords = "floodgate_output_queue_records"
	metricQueueBytes   = "floodgate_output_queue_bytes"
	metricQueueOldest  = "floodgate_output_queue_oldest_seconds"
	metricUp           = "floodgate_output_upstream_up"
	metricSent         = "floodgate_output_sent_records_total"
	metricDropped      = "floodgate_output_dropped_records_total"
	metricConnects     = "floodgate_output_connects_total"
	metricConnErrors   = "floodgate_output_connect_errors_total"
)

// Collector returns a Prometheus collector of the output's queue, its
// series labelled output=name.
func (f *Output) Collector(name string) prometheus.Collector {
	l := prometheus.Labels{"output": name}
	return &collector{
		f:        f,
		records:  prometheus.NewDesc(metricQueueRecords, "Records a network output holds, in memory (queued or sent and not yet acknowledged) or on disk.", []string{"queue"}, l),
		bytes:    prometheus.NewDesc(metricQueueBytes, "Bytes a network output holds, in memory or on disk.", []string{"queue"}, l),
		oldest:   prometheus.NewDesc(metricQueueOldest, "Age of the oldest record a network output holds in memory; 0 when none.", nil, l),
		up:       prometheus.NewDesc(metricUp, "1 while a network output is connected to its upstream.", nil, l),
		sent:     prometheus.NewDesc(metricSent, "Records a network output delivered (acknowledged by the upstream).", nil, l),
		dropped:  prometheus.NewDesc(metricDropped, "Records a network output dropped for want of room (each counted in a suppressed summary).", nil, l),
		connects: prometheus.NewDesc(metricConnects, "Connections a network output made to its upstream.", nil, l),
		connErrs: prometheus.NewDesc(metricConnErrors, "Attempts of a network output to connect to its upstream that failed (refused, timed out, TLS handshake).", nil, l),
	}
}

type collector struct {
	f                                                             *Output
	records, bytes, oldest, up, sent, dropped, connects, connErrs *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.records, c.bytes, c.oldest, c.up, c.sent, c.dropped, c.connects, c.connErrs} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	q := c.f.Queue()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.records, float64(q.MemRecords), "memory")
	gauge(c.records, float64(q.DiskRecords), "disk")
	gauge(c.bytes, float64(q.MemBytes), "memory")
	gauge(c.bytes, float64(q.DiskBytes), "disk")
	age := 0.0
	if !q.Oldest.IsZero() {
		age = max(time.Since(q.Oldest).Seconds(), 0)
	}
	gauge(c.oldest, age)
	up := 0.0
	if q.Up {
		up = 1
	}
	gauge(c.up, up)
	counter(c.sent, float64(q.Sent))
	counter(c.dropped, float64(q.Dropped))
	counter(c.connects, float64(q.Connects))
	counter(c.connErrs, float64(q.ConnectErrors))
}
