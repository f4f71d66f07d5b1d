package gen

import (
	"strconv"
	"strings"
	"time"

	"github.com/floodgate/floodgate"
)

// NewCelery returns n messages of Celery workers (four pool processes
// each) on two hosts running eight tasks: "Task
// orders.tasks.sync_order[uuid] received", "... succeeded in 0.041s:
// None", retries, and when a task fails, its
// "raised unexpected" line and a chained Python traceback, one message
// a line: a psycopg2 OperationalError and "The above exception was the
// direct cause of the following exception:" a Django OperationalError;
// or a ConnectionRefusedError and "During handling of the above
// exception, another exception occurred:" a redis ConnectionError; or
// both links in one chain. Each chain runs from its first "Traceback
// (most recent call last):" to its final exception line and that
// exception's indented continuation lines (libpq's hint). Workers go
// through outages (the database or redis down) in which most tasks fail,
// between calm spells with a failure now and then. Blank lines between
// the parts of a chain are dropped, as journald-to-syslog pipelines do.
func NewCelery(seed int64, n int) Generator {
	return build("celery", kindConfig{seed: seed, n: n, hosts: []string{"celery-01", "celery-02"}}, newCelery)
}

var celeryTasks = []string{
	"orders.tasks.sync_order", "orders.tasks.send_confirmation", "billing.tasks.charge_invoice", "billing.tasks.refund",
	"catalog.tasks.reindex_product", "cache.tasks.warm_cache", "reports.tasks.build_daily_report", "notify.tasks.push",
}

type celeryTaskLines struct {
	received, succeeded, retry, raisedDB, raisedRedis *line
}

// cl compiles a celery log line: "[stamp: LEVEL/Process] text".
func cl(sev floodgate.Severity, level, rest string) *line {
	return lsev("celery", sev, "[{log4j}: "+level+"] "+rest)
}

var celeryLines = func() []celeryTaskLines {
	var out []celeryTaskLines
	for _, t := range celeryTasks {
		out = append(out, celeryTaskLines{
			received:    cl(floodgate.Info, "INFO/MainProcess", "Task "+t+"[{$0}] received"),
			succeeded:   cl(floodgate.Info, "INFO/ForkPoolWorker-{$1}", "Task "+t+"[{$0}] succeeded in {s3}s: None"),
			retry:       cl(floodgate.Warning, "WARNING/ForkPoolWorker-{$1}", "Task "+t+"[{$0}] retry: Retry in {d}s: OperationalError('connection to server at \"{$2}\" ({$3}), port 5432 failed: Connection refused')"),
			raisedDB:    cl(floodgate.Err, "ERROR/ForkPoolWorker-{$1}", "Task "+t+"[{$0}] raised unexpected: OperationalError('connection to server at \"{$2}\" ({$3}), port 5432 failed: Connection refused')"),
			raisedRedis: cl(floodgate.Err, "ERROR/ForkPoolWorker-{$1}", "Task "+t+"[{$0}] raised unexpected: ConnectionError('Error 111 connecting to {$4}:6379. Connection refused.')"),
		})
	}
	return out
}()

// pyLines compiles the lines of a traceback, one per line of s.
func pyLines(s string) []*line {
	var out []*line
	for _, l := range strings.Split(s, "\n") {
		out = append(out, lsev("celery", floodgate.Err, l))
	}
	return out
}

const sitePkgs = "/usr/local/lib/python3.11/site-packages/"

const pyDBCause = `Traceback (most recent call last):
  File "` + sitePkgs + `django/db/backends/base/base.py", line 289, in ensure_connection
    self.connect()
  File "` + sitePkgs + `django/utils/asyncio.py", line 26, in inner
    return func(*args, **kwargs)
  File "` + sitePkgs + `django/db/backends/base/base.py", line 270, in connect
    self.connection = self.get_new_connection(conn_params)
  File "` + sitePkgs + `django/db/backends/postgresql/base.py", line 275, in get_new_connection
    connection = self.Database.connect(**conn_params)
  File "` + sitePkgs + `psycopg2/__init__.py", line 122, in connect
    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)
psycopg2.OperationalError: connection to server at "{$2}" ({$3}), port 5432 failed: Connection refused
#011Is the server running on that host and accepting TCP/IP connections?
The above exception was the direct cause of the following exception:
Traceback (most recent call last):
  File "` + sitePkgs + `celery/app/trace.py", line 477, in trace_task
    R = retval = fun(*args, **kwargs)
  File "` + sitePkgs + `celery/app/trace.py", line 760, in __protected_call__
    return self.run(*args, **kwargs)`

const pyDBEffect = `  File "` + sitePkgs + `django/db/models/query.py", line 633, in get
    num = len(clone)
  File "` + sitePkgs + `django/db/models/query.py", line 380, in __len__
    self._fetch_all()
  File "` + sitePkgs + `django/db/backends/base/base.py", line 289, in ensure_connection
    self.connect()
django.db.utils.OperationalError: connection to server at "{$2}" ({$3}), port 5432 failed: Connection refused
#011Is the server running on that host and accepting TCP/IP connections?`

const pyRedisCause = `Traceback (most recent call last):
  File "` + sitePkgs + `redis/connection.py", line 707, in connect
    sock = self.retry.call_with_retry(
  File "` + sitePkgs + `redis/retry.py", line 46, in call_with_retry
    return do()
  File "` + sitePkgs + `redis/connection.py", line 708, in <lambda>
    lambda: self._connect(), lambda error: self.disconnect(error)
  File "` + sitePkgs + `redis/connection.py", line 1006, in _connect
    raise err
  File "` + sitePkgs + `redis/connection.py", line 994, in _connect
    sock.connect(socket_address)
ConnectionRefusedError: [Errno 111] Connection refused
During handling of the above exception, another exception occurred:
Traceback (most recent call last):
  File "` + sitePkgs + `celery/app/trace.py", line 477, in trace_task
    R = retval = fun(*args, **kwargs)
  File "` + sitePkgs + `celery/app/trace.py", line 760, in __protected_call__
    return self.run(*args, **kwargs)`

const pyRedisEffect = `  File "` + sitePkgs + `redis/client.py", line 2320, in set
    return self.execute_command("SET", *pieces, **options)
  File "` + sitePkgs + `redis/client.py", line 1255, in execute_command
    conn = self.connection or pool.get_connection(command_name, **options)
  File "` + sitePkgs + `redis/connection.py", line 1373, in get_connection
    connection.connect()
  File "` + sitePkgs + `redis/connection.py", line 713, in connect
    raise ConnectionError(self._error_message(e))
redis.exceptions.ConnectionError: Error 111 connecting to {$4}:6379. Connection refused.`

// taskFrames are each task's own frame: file, line and code.
var taskFrames = []string{
	`  File "/app/orders/tasks.py", line 88, in sync_order
    order = Order.objects.select_for_update().get(pk=order_id)`,
	`  File "/app/orders/tasks.py", line 131, in send_confirmation
    order = Order.objects.get(pk=order_id)`,
	`  File "/app/billing/tasks.py", line 42, in charge_invoice
    invoice = Invoice.objects.get(pk=invoice_id)`,
	`  File "/app/billing/tasks.py", line 97, in refund
    payment = Payment.objects.get(pk=payment_id)`,
	`  File "/app/catalog/tasks.py", line 23, in reindex_product
    product = Product.objects.get(pk=product_id)`,
	`  File "/app/cache/tasks.py", line 31, in warm_cache
    cache.set(key, value, timeout=3600)`,
	`  File "/app/reports/tasks.py", line 54, in build_daily_report
    rows = list(Sale.objects.filter(day=day).values_list("total"))`,
	`  File "/app/notify/tasks.py", line 19, in push
    cache.set(f"push:{user_id}", payload, timeout=60)`,
}

// celeryChains[task] holds the task's chains: its database chain
// ("direct cause"), its redis chain ("During handling") and the long one
// with both links. Tasks that use the cache fail on redis, the others on
// the database.
var celeryChains = func() [][3]*blockDef {
	out := make([][3]*blockDef, len(celeryTasks))
	for i, t := range celeryTasks {
		frame := taskFrames[i]
		db := pyDBCause + "\n" + frame + "\n" + pyDBEffect
		rd := pyRedisCause + "\n" + frame + "\n" + pyRedisEffect
		both := strings.Replace(db, "Traceback (most recent call last):", pyRedisCause[:strings.Index(pyRedisCause, "During")]+
			"During handling of the above exception, another exception occurred:\nTraceback (most recent call last):", 1)
		out[i] = [3]*blockDef{
			newBlock("celery "+t+" OperationalError chain", pyLines(db)...),
			newBlock("celery "+t+" redis ConnectionError chain", pyLines(rd)...),
			newBlock("celery "+t+" ConnectionRefusedError, OperationalError chain", pyLines(both)...),
		}
	}
	return out
}()

type celery struct {
	outage   int // 0 calm, 1 database down, 2 redis down
	until    time.Time
	dbHosts  *pool
	redis    *pool
	worker   int
	taskPool *pool
}

func newCelery(c kindConfig) *flood {
	g := newFlood(c.seed, c.n)
	idx := make([]string, len(celeryTasks))
	for i := range idx {
		idx[i] = strconv.Itoa(i)
	}
	for i, h := range c.hosts {
		// Four pool processes a host, each with its own PID, so one's
		// traceback is not cut by another's lines.
		for w := range 4 {
			b := &celery{
				dbHosts:  newPool(2, []string{"db-01", "db-02", "pg-primary.internal", "pg-replica-1.internal"}),
				redis:    newPool(2, []string{"redis-master", "redis-cache.internal", "10.0.4.21"}),
				worker:   w + 1,
				taskPool: newPool(1.3, idx),
			}
			s := &source{host: h, app: "celery", pid: strconv.Itoa(1500 + 97*i + w + 1), fac: 3, sev: floodgate.Info, b: b}
			g.addSource(s, c.start, time.Second)
		}
	}
	return g
}

func (c *celery) event(g *flood, s *source) {
	r := s.r
	ms := time.Millisecond
	if !s.at.Before(c.until) {
		c.outage = 0
		c.until = s.at.Add(g.paced(between(r, 5*time.Minute, 20*time.Minute)))
		if r.IntN(2) == 0 {
			c.outage = 1 + r.IntN(2)
			c.until = s.at.Add(g.paced(between(r, time.Minute, 8*time.Minute)))
		}
	}
	ti := c.taskPool.index(r)
	tl := &celeryLines[ti]
	s.slots[0] = appendUUID(s.slots[0][:0], r)
	s.setInt(1, c.worker)
	s.set(2, c.dbHosts.pick(r))
	s.slots[3] = appendIPv4(s.slots[3][:0], 10, 0, 3, 10+r.IntN(4))
	s.set(4, c.redis.pick(r))
	s.next = exp(r, time.Second)
	s.add(tl.received, 0)
	usesCache := ti == 5 || ti == 7
	fail := r.IntN(100) < 2
	switch {
	case c.outage == 1 && !usesCache, c.outage == 2 && usesCache:
		fail = r.IntN(10) < 8
	}
	if !fail {
		if c.outage == 1 && r.IntN(3) == 0 {
			s.add(tl.retry, between(r, 5*ms, 3000*ms))
			return
		}
		s.add(tl.succeeded, between(r, 5*ms, 3000*ms))
		return
	}
	chains := &celeryChains[ti]
	raised, chain := tl.raisedDB, chains[0]
	switch {
	case usesCache && r.IntN(5) == 0:
		chain = chains[2]
	case usesCache:
		raised, chain = tl.raisedRedis, chains[1]
	case r.IntN(10) == 0:
		chain = chains[2]
	}
	s.add(raised, between(r, 5*ms, 3000*ms))
	s.addBlock(chain, 50*time.Microsecond)
}
