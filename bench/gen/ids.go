package gen

import (
	"strconv"
	"strings"
	"time"

	"github.com/floodgate/floodgate"
)

// NewIDs returns n messages whose every line carries a new id. Container
// churn on two CI runners (every host but the last): systemd's "Started
// libcontainer container <64 hex>." and "docker-<id>.scope: Deactivated
// successfully.", containerd's "shim disconnected" id=<id>, dockerd's
// "ignoring event" container=<id>. And on the last host an API service
// logging each request in logfmt with a UUID request id, a trace id of
// 32 hex digits and a Stripe-like "req_" id of letters and digits (a
// parameter word no hex mask catches), with method, route and status.
func NewIDs(seed int64, n int) Generator {
	return build("ids", kindConfig{seed: seed, n: n, hosts: []string{"runner-01", "runner-02", "api-01"}}, newIDs)
}

var (
	idsStarted     = lalt("systemd", "Started libcontainer container {$0}.")
	idsScopeDone   = lalt("systemd", "docker-{$0}.scope: Deactivated successfully.").param("docker-<*>.scope")
	idsScopeCPU    = lalt("systemd", "docker-{$0}.scope: Consumed {s3}s CPU time.")
	idsMountDone   = lalt("systemd", `run-docker-runtime\x2drunc-moby-{$0}-runc.{$1}.mount: Deactivated successfully.`)
	idsShimStart   = ln("containerd", `time="{rfc3339}" level=info msg="loading plugin \"io.containerd.event.v1.publisher\"..." runtime=io.containerd.runc.v2 type=io.containerd.event.v1`)
	idsShimLoop    = ln("containerd", `time="{rfc3339}" level=info msg="starting signal loop" namespace=moby path=/run/containerd/io.containerd.runtime.v2.task/moby/{$0} pid={$2} runtime=io.containerd.runc.v2`)
	idsShimGone    = ln("containerd", `time="{rfc3339}" level=info msg="shim disconnected" id={$0} namespace=moby`)
	idsShimCleanup = lsev("containerd", floodgate.Warning, `time="{rfc3339}" level=warning msg="cleaning up after shim disconnected" id={$0} namespace=moby`)
	idsIgnoring    = lalt("dockerd", `time="{rfc3339}" level=info msg="ignoring event" container={$0} module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"`)
	idsAPI         = func() (out [4][3]*line) {
		for i, m := range []string{"GET", "POST", "PUT", "DELETE"} {
			for j, lvl := range []string{"info", "warn", "error"} {
				out[i][j] = ln("api", `time={$9} level=`+lvl+` msg="request completed" request_id={$3} trace_id={$4} idempotency_key={$5} method=`+m+` route={$6} status={$7} duration_ms={$8}`)
			}
		}
		return out
	}()
)

type ids struct {
	api    bool
	routes *pool
	pid    int
}

var apiRoutes = []string{"/v1/orders", "/v1/orders/{id}", "/v1/customers/{id}", "/v1/payments", "/v1/payments/{id}/capture",
	"/v1/refunds", "/v1/invoices/{id}", "/v1/products", "/v1/products/{id}", "/v1/carts/{id}/items", "/v1/sessions", "/v1/webhooks"}

// apiRouteParts splits each route at its "{id}": before, after, and the
// id's prefix ("ord_" for orders).
var apiRouteParts = func() [][3]string {
	var out [][3]string
	for _, rt := range apiRoutes {
		before, after, ok := strings.Cut(rt, "{id}")
		if !ok {
			out = append(out, [3]string{rt, "", ""})
			continue
		}
		res := strings.Split(before, "/")[2]
		out = append(out, [3]string{before, after, res[:3] + "_"})
	}
	return out
}()

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func newIDs(c kindConfig) *flood {
	g := newFlood(c.seed, c.n)
	for i, h := range c.hosts {
		// The last host runs the API service, the others containers.
		b := &ids{api: i == len(c.hosts)-1, routes: newPool(1.3, apiRoutes), pid: 20000 + 3000*i}
		s := &source{host: h, app: "containerd", pid: strconv.Itoa(700 + i), pid2: "1", fac: 3, sev: floodgate.Info, b: b}
		if b.api {
			s.app, s.pid = "api", strconv.Itoa(3100+i)
		}
		g.addSource(s, c.start, time.Second)
		if !b.api {
			// dockerd logs beside containerd, as its own source.
			d := &ids{pid: 40000 + 3000*i}
			g.addSource(&source{host: h, app: "containerd", pid: strconv.Itoa(700 + i), pid2: strconv.Itoa(900 + i), fac: 3, sev: floodgate.Info, b: d}, c.start, time.Second)
		}
	}
	return g
}

func (x *ids) event(g *flood, s *source) {
	r := s.r
	if x.api {
		s.slots[9] = s.at.AppendFormat(s.slots[9][:0], "2006-01-02T15:04:05.000Z07:00")
		s.slots[3] = appendUUID(s.slots[3][:0], r)
		s.slots[4] = appendHexFixed(appendHexFixed(s.slots[4][:0], r.Uint64(), 16), r.Uint64(), 16)
		s.slots[5] = append(s.slots[5][:0], "req_"...)
		for range 14 {
			s.slots[5] = append(s.slots[5], alnum[r.IntN(len(alnum))])
		}
		// A route with its id filled in: a path of many values.
		rt := apiRouteParts[x.routes.index(r)]
		s.slots[6] = append(s.slots[6][:0], rt[0]...)
		if rt[1] != "" || len(rt[0]) > 0 && rt[0][len(rt[0])-1] == '/' {
			s.slots[6] = append(s.slots[6], rt[2]...)
			for range 14 {
				s.slots[6] = append(s.slots[6], alnum[r.IntN(len(alnum))])
			}
			s.slots[6] = append(s.slots[6], rt[1]...)
		}
		st, lvl := 200, 0
		switch y := r.IntN(100); {
		case y < 3:
			st, lvl = 500, 2
		case y < 10:
			st, lvl = []int{400, 404, 409, 422}[y%4], 1
		case y < 25:
			st = 201
		}
		s.setInt(7, st)
		s.setInt(8, 1+int(r.ExpFloat64()*40))
		m := r.IntN(10)
		switch {
		case m < 6:
			m = 0
		case m < 9:
			m = 1
		default:
			m = 2 + m%2
		}
		s.add(idsAPI[m][lvl], 0)
		s.next = exp(r, 40*time.Millisecond)
		return
	}
	// One container's life: start, run for seconds, exit and clean up.
	s.slots[0] = appendHexFixed(s.slots[0][:0], r.Uint64(), 16)
	for range 3 {
		s.slots[0] = appendHexFixed(s.slots[0], r.Uint64(), 16)
	}
	s.slots[1] = appendHexFixed(s.slots[1][:0], r.Uint64(), 16)
	x.pid += 1 + r.IntN(200)
	s.setInt(2, x.pid)
	ms := time.Millisecond
	if s.pid2 != "1" {
		s.add(idsIgnoring, 0)
		s.next = exp(r, 2*time.Second)
		return
	}
	s.add(idsShimStart, 0)
	s.add(idsShimStart, 40*time.Microsecond)
	s.add(idsShimLoop, ms)
	s.add(idsStarted, 2*ms)
	s.add(idsShimGone, between(r, time.Second, 40*time.Second))
	s.add(idsShimCleanup, ms/10)
	s.add(idsMountDone, 20*ms)
	s.add(idsScopeDone, ms)
	if r.IntN(2) == 0 {
		s.add(idsScopeCPU, ms/10)
	}
	s.next = exp(r, 3*time.Second)
}
