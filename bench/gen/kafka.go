package gen

import (
	"strconv"
	"strings"
	"time"

	"github.com/floodgate/floodgate"
)

// NewKafka returns n messages of three Kafka consumers (Java services
// under systemd) in a crash loop. At every start the client prints its
// 52-line tab-indented "ConsumerConfig values:" dump, as rsyslog writes
// it (`#011auto.offset.reset = latest`, one message a line), then
// AppInfoParser and coordinator lines; seconds later the consumer dies
// with a Java exception (a SerializationException caused by a Jackson
// JsonParseException, or a CommitFailedException, or a TimeoutException)
// with its `Caused by:` sections and `... N more`, closes, and systemd
// logs the exit and restarts it ten seconds later with a new PID
// ("Scheduled restart job, restart counter is at 7."). Ids (client id,
// group, offsets, partitions, PIDs) vary; the dump's keys and the frames
// do not.
func NewKafka(seed int64, n int) Generator {
	return build("kafka", kindConfig{seed: seed, n: n, hosts: []string{"worker-01", "worker-02", "worker-03"}}, newKafka)
}

const consumerConfig = `allow.auto.create.topics = true
auto.commit.interval.ms = 5000
auto.include.jmx.reporter = true
auto.offset.reset = latest
bootstrap.servers = [kafka-1:9092, kafka-2:9092, kafka-3:9092]
check.crcs = true
client.dns.lookup = use_all_dns_ips
client.id = {$1}
client.rack = 
connections.max.idle.ms = 540000
default.api.timeout.ms = 60000
enable.auto.commit = false
exclude.internal.topics = true
fetch.max.bytes = 52428800
fetch.max.wait.ms = 500
fetch.min.bytes = 1
group.id = {$0}
group.instance.id = null
heartbeat.interval.ms = 3000
interceptor.classes = []
internal.leave.group.on.close = true
internal.throw.on.fetch.stable.offset.unsupported = false
isolation.level = read_uncommitted
key.deserializer = class org.apache.kafka.common.serialization.StringDeserializer
max.partition.fetch.bytes = 1048576
max.poll.interval.ms = 300000
max.poll.records = 500
metadata.max.age.ms = 300000
metric.reporters = []
metrics.num.samples = 2
metrics.recording.level = INFO
metrics.sample.window.ms = 30000
partition.assignment.strategy = [class org.apache.kafka.clients.consumer.RangeAssignor, class org.apache.kafka.clients.consumer.CooperativeStickyAssignor]
receive.buffer.bytes = 65536
reconnect.backoff.max.ms = 1000
reconnect.backoff.ms = 50
request.timeout.ms = 30000
retry.backoff.ms = 100
security.protocol = PLAINTEXT
security.providers = null
send.buffer.bytes = 131072
session.timeout.ms = 45000
socket.connection.setup.timeout.max.ms = 30000
socket.connection.setup.timeout.ms = 10000
ssl.cipher.suites = null
ssl.enabled.protocols = [TLSv1.2, TLSv1.3]
ssl.endpoint.identification.algorithm = https
ssl.key.password = null
ssl.keystore.location = null
ssl.protocol = TLSv1.3
ssl.truststore.location = null
value.deserializer = class {$3}`

// jl compiles a log4j line of the java app: "stamp LEVEL [thread]
// logger: text".
func jl(level, rest string) *line {
	sev := floodgate.Info
	switch strings.TrimSpace(level) {
	case "WARN":
		sev = floodgate.Warning
	case "ERROR":
		sev = floodgate.Err
	}
	return lsev("java", sev, "{log4j} "+level+" "+rest)
}

// jframes compiles continuation lines of a trace: "#011at ..." frames
// and the like, one per line of s.
func jframes(s string) []*line {
	var out []*line
	for _, l := range strings.Split(s, "\n") {
		out = append(out, lsev("java", floodgate.Err, l))
	}
	return out
}

var kafkaConfigDump = func() *blockDef {
	lines := []*line{jl("INFO ", "[main] o.a.k.c.c.ConsumerConfig: ConsumerConfig values: ")}
	for _, l := range strings.Split(consumerConfig, "\n") {
		lines = append(lines, ln("java", "#011"+l))
	}
	return newBlock("java ConsumerConfig values dump", lines...)
}()

var (
	kafkaVersion    = jl("INFO ", "[main] o.a.k.c.u.AppInfoParser: Kafka version: 3.4.0")
	kafkaCommit     = jl("INFO ", "[main] o.a.k.c.u.AppInfoParser: Kafka commitId: 2e1947d240607d53")
	kafkaStartMs    = jl("INFO ", "[main] o.a.k.c.u.AppInfoParser: Kafka startTimeMs: {$4}")
	kafkaSubscribed = jl("INFO ", "[main] o.a.k.c.c.KafkaConsumer: [Consumer clientId={$1}, groupId={$0}] Subscribed to topic(s): {$2}")
	kafkaClusterID  = jl("INFO ", "[main] o.a.k.c.Metadata: [Consumer clientId={$1}, groupId={$0}] Cluster ID: {$5}")
	kafkaCoord      = jl("INFO ", "[main] o.a.k.c.c.i.ConsumerCoordinator: [Consumer clientId={$1}, groupId={$0}] Discovered group coordinator kafka-{n}:9092 (id: {D} rack: null)")
	kafkaJoining    = jl("INFO ", "[main] o.a.k.c.c.i.ConsumerCoordinator: [Consumer clientId={$1}, groupId={$0}] (Re-)joining group")
	kafkaAssigned   = jl("INFO ", "[main] o.a.k.c.c.i.ConsumerCoordinator: [Consumer clientId={$1}, groupId={$0}] Adding newly assigned partitions: {$2}-{n}, {$2}-{n}")
	kafkaCrashed    = jl("ERROR", "[main] c.e.c.ConsumerRunner: consumer {$1} stopped after an unrecoverable error")
	kafkaClosed     = jl("INFO ", "[main] o.a.k.c.m.Metrics: Metrics scheduler closed")
	kafkaUnreg      = jl("INFO ", "[main] o.a.k.c.u.AppInfoParser: App info kafka.consumer for {$1} unregistered")
)

var kafkaTraces = []*blockDef{
	newBlock("java SerializationException caused by JsonParseException", append([]*line{
		lsev("java", floodgate.Err, "org.apache.kafka.common.errors.SerializationException: Error deserializing key/value for partition {$2}-{n} at offset {D}. If needed, please seek past the record to continue consumption."),
	}, jframes(`#011at org.apache.kafka.clients.consumer.internals.Fetcher.parseRecord(Fetcher.java:1429)
#011at org.apache.kafka.clients.consumer.internals.Fetcher.access$3400(Fetcher.java:134)
#011at org.apache.kafka.clients.consumer.internals.Fetcher$CompletedFetch.fetchRecords(Fetcher.java:1652)
#011at org.apache.kafka.clients.consumer.internals.Fetcher$CompletedFetch.access$1800(Fetcher.java:1488)
#011at org.apache.kafka.clients.consumer.internals.Fetcher.fetchRecords(Fetcher.java:721)
#011at org.apache.kafka.clients.consumer.internals.Fetcher.fetchedRecords(Fetcher.java:672)
#011at org.apache.kafka.clients.consumer.KafkaConsumer.pollForFetches(KafkaConsumer.java:1304)
#011at org.apache.kafka.clients.consumer.KafkaConsumer.poll(KafkaConsumer.java:1238)
#011at org.apache.kafka.clients.consumer.KafkaConsumer.poll(KafkaConsumer.java:1211)
#011at com.example.consumer.ConsumerRunner.run(ConsumerRunner.java:58)
#011at java.base/java.lang.Thread.run(Thread.java:829)
Caused by: com.fasterxml.jackson.core.JsonParseException: Unexpected character ('<' (code 60)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')
 at [Source: (byte[])"<html><head><title>502 Bad Gateway</title></head>"; line: 1, column: 2]
#011at com.fasterxml.jackson.core.JsonParser._constructError(JsonParser.java:2337)
#011at com.fasterxml.jackson.core.base.ParserMinimalBase._reportError(ParserMinimalBase.java:720)
#011at com.fasterxml.jackson.core.base.ParserMinimalBase._reportUnexpectedChar(ParserMinimalBase.java:646)
#011at com.fasterxml.jackson.core.json.UTF8StreamJsonParser._handleUnexpectedValue(UTF8StreamJsonParser.java:2715)
#011at com.fasterxml.jackson.databind.ObjectMapper._readMapAndClose(ObjectMapper.java:4593)
#011at com.fasterxml.jackson.databind.ObjectMapper.readValue(ObjectMapper.java:3597)
#011at com.example.consumer.JsonDeserializer.deserialize(JsonDeserializer.java:27)
#011at org.apache.kafka.common.serialization.Deserializer.deserialize(Deserializer.java:60)
#011at org.apache.kafka.clients.consumer.internals.Fetcher.parseRecord(Fetcher.java:1420)
#011... 10 more`)...)...),
	newBlock("java CommitFailedException", append([]*line{
		lsev("java", floodgate.Err, "org.apache.kafka.clients.consumer.CommitFailedException: Offset commit cannot be completed since the consumer is not part of an active group for auto partition assignment; it is likely that the consumer was kicked out of the group."),
	}, jframes(`#011at org.apache.kafka.clients.consumer.internals.ConsumerCoordinator.sendOffsetCommitRequest(ConsumerCoordinator.java:1351)
#011at org.apache.kafka.clients.consumer.internals.ConsumerCoordinator.commitOffsetsSync(ConsumerCoordinator.java:1188)
#011at org.apache.kafka.clients.consumer.KafkaConsumer.commitSync(KafkaConsumer.java:1518)
#011at org.apache.kafka.clients.consumer.KafkaConsumer.commitSync(KafkaConsumer.java:1466)
#011at com.example.consumer.ConsumerRunner.commit(ConsumerRunner.java:91)
#011at com.example.consumer.ConsumerRunner.run(ConsumerRunner.java:64)
#011at java.base/java.lang.Thread.run(Thread.java:829)`)...)...),
	newBlock("java TimeoutException caused by DisconnectException", append([]*line{
		lsev("java", floodgate.Err, "org.apache.kafka.common.errors.TimeoutException: Timeout of 60000ms expired before successfully committing offsets {{$2}-{n}=OffsetAndMetadata{offset={D}, leaderEpoch=null, metadata=''}}"),
	}, jframes(`#011at org.apache.kafka.clients.consumer.internals.ConsumerCoordinator.commitOffsetsSync(ConsumerCoordinator.java:1206)
#011at org.apache.kafka.clients.consumer.KafkaConsumer.commitSync(KafkaConsumer.java:1518)
#011at com.example.consumer.ConsumerRunner.commit(ConsumerRunner.java:91)
#011at com.example.consumer.ConsumerRunner.run(ConsumerRunner.java:64)
#011at java.base/java.lang.Thread.run(Thread.java:829)
Caused by: org.apache.kafka.common.errors.DisconnectException: null
#011at org.apache.kafka.clients.consumer.internals.ConsumerNetworkClient.checkDisconnects(ConsumerNetworkClient.java:529)
#011at org.apache.kafka.clients.consumer.internals.ConsumerNetworkClient.poll(ConsumerNetworkClient.java:294)
#011... 4 more`)...)...),
}

var (
	unitExited    = lsev("systemd", floodgate.Notice, "{$6}: Main process exited, code=exited, status=1/FAILURE")
	unitFailed    = lsev("systemd", floodgate.Warning, "{$6}: Failed with result 'exit-code'.")
	unitScheduled = ln("systemd", "{$6}: Scheduled restart job, restart counter is at {$7}.")
	unitStopped   = ln("systemd", "Stopped {$8}.")
	unitStarted   = ln("systemd", "Started {$8}.")
)

func init() {
	for _, l := range []*line{unitExited, unitFailed, unitScheduled, unitStopped, unitStarted} {
		l.alt = true
	}
}

type kafkaConsumer struct {
	group, topic, class, unit, desc string
	pid, restarts                   int
	cluster                         string
}

func newKafka(c kindConfig) *flood {
	g := newFlood(c.seed, c.n)
	consumers := []struct{ group, topic, class, unit, desc string }{
		{"orders", "orders", "com.example.orders.OrderDeserializer", "orders-consumer.service", "Orders consumer"},
		{"payments-settlement", "payments", "com.example.payments.PaymentDeserializer", "settlement.service", "Payments settlement consumer"},
		{"shipments-tracker", "shipments", "com.example.shipping.ShipmentDeserializer", "tracker.service", "Shipment tracker"},
	}
	cluster := string(appendBase64ish(nil, g.r.Uint64(), g.r.Uint64())[:22])
	for i, h := range c.hosts {
		k := consumers[i%len(consumers)]
		b := &kafkaConsumer{group: k.group, topic: k.topic, class: k.class, unit: k.unit, desc: k.desc,
			pid: 4000 + 1000*i + g.r.IntN(500), cluster: cluster}
		s := &source{host: h, app: "java", pid2: "1", fac: 3, sev: floodgate.Info, b: b}
		s.set(0, b.group)
		s.set(1, "consumer-"+b.group+"-1")
		s.set(2, b.topic)
		s.set(3, b.class)
		s.set(5, b.cluster)
		s.set(6, b.unit)
		s.set(8, b.desc)
		g.addSource(s, c.start, 20*time.Second)
	}
	return g
}

func (k *kafkaConsumer) event(g *flood, s *source) {
	r := s.r
	us := time.Microsecond
	k.pid += 7 + r.IntN(300)
	s.pid = g.a.string(strconv.AppendInt(g.buf[:0], int64(k.pid), 10))
	s.slots[4] = strconv.AppendInt(s.slots[4][:0], s.at.UnixMilli(), 10)
	s.addBlock(kafkaConfigDump, 20*us)
	s.add(kafkaVersion, 3*time.Millisecond)
	s.add(kafkaCommit, 20*us)
	s.add(kafkaStartMs, 20*us)
	s.add(kafkaSubscribed, 2*time.Millisecond)
	s.add(kafkaClusterID, between(r, 100*time.Millisecond, 400*time.Millisecond))
	s.add(kafkaCoord, 2*time.Millisecond)
	s.add(kafkaJoining, time.Millisecond)
	s.add(kafkaAssigned, between(r, 2*time.Second, 4*time.Second))
	s.add(kafkaCrashed, between(r, 3*time.Second, 60*time.Second))
	tr := kafkaTraces[0]
	if x := r.IntN(10); x >= 8 {
		tr = kafkaTraces[x-7]
	}
	s.addBlock(tr, 30*us)
	s.add(kafkaClosed, 5*time.Millisecond)
	s.add(kafkaUnreg, time.Millisecond)
	k.restarts++
	s.setInt(7, k.restarts)
	s.add(unitExited, 150*time.Millisecond)
	s.add(unitFailed, 200*us)
	s.add(unitScheduled, 10*time.Second)
	s.add(unitStopped, 300*us)
	s.add(unitStarted, 300*us)
	s.next = 0 // the restart follows the last line at once
}
