package gen

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/floodgate/floodgate"
)

// traces floods with multi-line blocks from a small set of templates, one
// syslog message per line, the way a JVM or a Python service logging to
// stderr under journald ends up in syslog.
type traces struct {
	r     *rand.Rand
	a     arena
	buf   []byte
	n     int
	limit int
	now   time.Time

	kind     string
	hosts    []string
	app      string
	pids     []string
	fac      floodgate.Facility
	sev      floodgate.Severity
	blocks   [][]tmpl
	truths   [][]string // per block and line, its Template
	names    []string   // per block, its BlockTemplate
	lineGap  time.Duration
	blockGap time.Duration

	cur   []tmpl
	bi    int // the current block's index
	li    int
	host  int
	block uint64 // the current block instance
}

// newTraces builds a trace flood. pidBase keeps the PIDs of different
// apps on one host apart.
func newTraces(seed int64, n int, app string, pidBase int, fac floodgate.Facility, sev floodgate.Severity, blocks [][]string) *traces {
	t := &traces{
		r: newRand(seed), buf: make([]byte, 0, 512), limit: n,
		now:      DefaultIncident().Start,
		hosts:    []string{"app-01", "app-02", "app-03"},
		app:      app,
		kind:     app,
		fac:      fac,
		sev:      sev,
		lineGap:  50 * time.Microsecond,
		blockGap: 20 * time.Millisecond,
	}
	for i := range t.hosts {
		t.pids = append(t.pids, strconv.Itoa(pidBase+313*i))
	}
	for i, b := range blocks {
		c := compileAll(b)
		t.blocks = append(t.blocks, c)
		tr := make([]string, len(c))
		for j := range c {
			tr[j] = app + ": " + c[j].truth()
		}
		t.truths = append(t.truths, tr)
		t.names = append(t.names, app+" trace "+strconv.Itoa(i+1))
	}
	return t
}

func (t *traces) Next(m *floodgate.Message) bool {
	if t.n >= t.limit {
		return false
	}
	t.n++
	if t.li == len(t.cur) {
		t.bi = t.r.IntN(len(t.blocks))
		t.cur = t.blocks[t.bi]
		t.li = 0
		t.block++
		t.host = t.r.IntN(len(t.hosts))
		t.now = t.now.Add(t.blockGap/2 + time.Duration(t.r.Int64N(int64(t.blockGap))))
	} else {
		t.now = t.now.Add(t.lineGap)
	}
	t.buf = t.cur[t.li].render(t.buf[:0], t.r)
	t.li++
	m.Time = t.now
	m.Host, m.App, m.ProcID = t.hosts[t.host], t.app, t.pids[t.host]
	m.Facility, m.Severity = t.fac, t.sev
	m.Text = t.a.string(t.buf)
	finish(m)
	return true
}

// Truth describes the message the last Next produced: every line of a
// trace is a line of its block.
func (t *traces) Truth() Truth {
	if t.li == 0 {
		return Truth{} // no message yet
	}
	return Truth{Kind: t.kind, Template: t.truths[t.bi][t.li-1], Block: t.block, BlockTemplate: t.names[t.bi]}
}

// NewJava returns n messages of Java exception traces (Spring, HikariCP,
// Kafka, Tomcat): `Exception in thread`, `#011at ...` frames,
// `Caused by:` and `#011... N more`, with thread names, timeouts and
// counts varying between occurrences of the same trace. Frames, file
// names and line numbers never vary: one build throws the same trace, so
// five templates are five patterns.
func NewJava(seed int64, n int) Generator {
	return newTraces(seed, n, "java", 4100, 16, floodgate.Err, javaTraces)
}

// NewPython returns n messages of Python tracebacks (requests/urllib3,
// Django, a worker's KeyError), chained ones included, with addresses,
// ids and line contents varying.
func NewPython(seed int64, n int) Generator {
	t := newTraces(seed, n, "python3", 5200, 16, floodgate.Err, pythonTraces)
	t.kind = "python"
	return t
}

var javaTraces = [][]string{
	{
		"ERROR [http-nio-8080-exec-{d}] o.a.c.c.C.[.[.[/].[dispatcherServlet] - Servlet.service() for servlet [dispatcherServlet] threw exception",
		"org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection; nested exception is java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after {D}ms.",
		"#011at org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:82)",
		"#011at org.springframework.jdbc.core.JdbcTemplate.execute(JdbcTemplate.java:612)",
		"#011at org.springframework.jdbc.core.JdbcTemplate.query(JdbcTemplate.java:669)",
		"#011at com.example.orders.OrderRepository.findByCustomer(OrderRepository.java:57)",
		"#011at com.example.orders.OrderService.list(OrderService.java:41)",
		"#011at com.example.orders.OrderController.list(OrderController.java:33)",
		"#011at sun.reflect.GeneratedMethodAccessor87.invoke(Unknown Source)",
		"#011at org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run(TaskThread.java:61)",
		"#011at java.lang.Thread.run(Thread.java:748)",
		"Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after {D}ms.",
		"#011at com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:676)",
		"#011at com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:190)",
		"#011at com.zaxxer.hikari.HikariDataSource.getConnection(HikariDataSource.java:128)",
		"#011at org.springframework.jdbc.datasource.DataSourceUtils.fetchConnection(DataSourceUtils.java:158)",
		"#011... {d} more",
	},
	{
		"Exception in thread \"pool-{d}-thread-{d}\" java.lang.NullPointerException",
		"#011at com.example.billing.InvoiceBatch.total(InvoiceBatch.java:112)",
		"#011at com.example.billing.InvoiceBatch.close(InvoiceBatch.java:87)",
		"#011at com.example.billing.BatchWorker.run(BatchWorker.java:45)",
		"#011at java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1149)",
		"#011at java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:624)",
		"#011at java.lang.Thread.run(Thread.java:748)",
	},
	{
		"ERROR [kafka-producer-network-thread | producer-{d}] c.e.events.EventPublisher - send failed for key {x}",
		"org.apache.kafka.common.errors.TimeoutException: Expiring {d} record(s) for orders-{d}: {D} ms has passed since batch creation plus linger time",
	},
	{
		"WARN [http-nio-8080-exec-{d}] o.a.c.connector.CoyoteAdapter - client went away while writing the response",
		"org.apache.catalina.connector.ClientAbortException: java.io.IOException: Broken pipe",
		"#011at org.apache.catalina.connector.OutputBuffer.realWriteBytes(OutputBuffer.java:356)",
		"#011at org.apache.catalina.connector.OutputBuffer.flushByteBuffer(OutputBuffer.java:815)",
		"#011at org.apache.catalina.connector.OutputBuffer.doFlush(OutputBuffer.java:310)",
		"Caused by: java.io.IOException: Broken pipe",
		"#011at sun.nio.ch.FileDispatcherImpl.write0(Native Method)",
		"#011at sun.nio.ch.SocketDispatcher.write(SocketDispatcher.java:47)",
		"#011at sun.nio.ch.IOUtil.writeFromNativeBuffer(IOUtil.java:93)",
		"#011... {d} more",
	},
	{
		"Exception in thread \"scheduler-{d}\" java.util.ConcurrentModificationException",
		"#011at java.util.HashMap$HashIterator.nextNode(HashMap.java:1442)",
		"#011at java.util.HashMap$KeyIterator.next(HashMap.java:1466)",
		"#011at com.example.cache.SessionCache.evictExpired(SessionCache.java:118)",
		"#011at com.example.cache.SessionCache.lambda$start$0(SessionCache.java:52)",
		"#011at java.util.concurrent.Executors$RunnableAdapter.call(Executors.java:511)",
		"#011at java.lang.Thread.run(Thread.java:748)",
	},
}

var pythonTraces = [][]string{
	{
		"ERROR:app.sync:fetch of item {D} failed",
		"Traceback (most recent call last):",
		"  File \"/opt/app/venv/lib/python3.11/site-packages/urllib3/connection.py\", line 203, in _new_conn",
		"    sock = connection.create_connection(",
		"  File \"/opt/app/venv/lib/python3.11/site-packages/urllib3/util/connection.py\", line 85, in create_connection",
		"    raise err",
		"  File \"/opt/app/venv/lib/python3.11/site-packages/urllib3/util/connection.py\", line 73, in create_connection",
		"    sock.connect(sa)",
		"ConnectionRefusedError: [Errno 111] Connection refused",
		"During handling of the above exception, another exception occurred:",
		"Traceback (most recent call last):",
		"  File \"/opt/app/sync.py\", line 142, in fetch",
		"    resp = session.get(url, timeout=5)",
		"  File \"/opt/app/venv/lib/python3.11/site-packages/requests/adapters.py\", line 519, in send",
		"    raise ConnectionError(e, request=request)",
		"requests.exceptions.ConnectionError: HTTPConnectionPool(host='{ip}', port=8080): Max retries exceeded with url: /api/v1/items/{D} (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f{x}>: Failed to establish a new connection: [Errno 111] Connection refused'))",
	},
	{
		"Traceback (most recent call last):",
		"  File \"/opt/app/worker.py\", line 88, in handle",
		"    user = cache[event['user_id']]",
		"KeyError: 'user_{D}'",
	},
	{
		"ERROR:django.request:Internal Server Error: /api/orders/{D}/",
		"Traceback (most recent call last):",
		"  File \"/opt/app/venv/lib/python3.11/site-packages/django/db/backends/base/base.py\", line 289, in ensure_connection",
		"    self.connect()",
		"  File \"/opt/app/venv/lib/python3.11/site-packages/django/db/backends/postgresql/base.py\", line 269, in get_new_connection",
		"    connection = self.Database.connect(**conn_params)",
		"django.db.utils.OperationalError: connection to server at \"{ip}\", port 5432 failed: Connection refused",
	},
	{
		"Traceback (most recent call last):",
		"  File \"/opt/app/report.py\", line 31, in <module>",
		"    main()",
		"  File \"/opt/app/report.py\", line 27, in main",
		"    print(total / count)",
		"ZeroDivisionError: division by zero",
	},
}
