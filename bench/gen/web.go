package gen

import (
	"strconv"
	"time"

	"github.com/floodgate/floodgate"
)

// NewWeb returns n messages of web traffic: nginx access lines in the
// combined format on three hosts, haproxy HTTP log lines on two load
// balancers, and their error lines (nginx's "connect() failed ... while
// connecting to upstream", "upstream timed out", "open() ... failed",
// haproxy's "Server app/web-03 is DOWN" and "is UP"). Client addresses,
// paths (REST ids, static assets with hashes, scanners' probes), user
// agents and referrers come from Zipf pools (up to thousands of values);
// frontends, backends and servers are names, parameters too. The method
// and haproxy's termination state are the meaningful words of their
// templates; status codes, sizes and timers are numbers. Traffic swings
// between quiet and busy spells.
func NewWeb(seed int64, n int) Generator {
	return build("web", kindConfig{seed: seed, n: n, hosts: []string{"web-01", "web-02", "web-03", "lb-01", "lb-02"}}, newWeb)
}

var httpMethods = []string{"GET", "POST", "PUT", "DELETE", "HEAD"}

// nginxAccess[method] is the access line of that method; the protocol's
// version is a number.
var nginxAccess = func() (out [5]*line) {
	for i, m := range httpMethods {
		out[i] = ln("nginx", `{$0} - - [{$9}] "`+m+` {$1} HTTP/{$a}" {$2} {$3} "{$4}" "{$5}"`)
	}
	return out
}()

var (
	nginxRefused  = lsev("nginx", floodgate.Err, `{$8} [error] {$7}#{$7}: *{D} connect() failed (111: Connection refused) while connecting to upstream, client: {$0}, server: {$6}, request: "GET {$1} HTTP/1.1", upstream: "http://{ip}:8080{$1}", host: "{$6}"`)
	nginxTimedOut = lsev("nginx", floodgate.Err, `{$8} [error] {$7}#{$7}: *{D} upstream timed out (110: Connection timed out) while reading response header from upstream, client: {$0}, server: {$6}, request: "GET {$1} HTTP/1.1", upstream: "http://{ip}:8080{$1}", host: "{$6}"`)
	nginxNoFile   = lsev("nginx", floodgate.Err, `{$8} [error] {$7}#{$7}: *{D} open() "/usr/share/nginx/html{$1}" failed (2: No such file or directory), client: {$0}, server: {$6}, request: "GET {$1} HTTP/1.1", host: "{$6}"`)
	nginxBuffered = lsev("nginx", floodgate.Warning, `{$8} [warn] {$7}#{$7}: *{D} an upstream response is buffered to a temporary file /var/cache/nginx/proxy_temp/{n}/{d}/00000{D} while reading upstream, client: {$0}, server: {$6}, request: "GET {$1} HTTP/1.1", upstream: "http://{ip}:8080{$1}", host: "{$6}"`)
)

// haproxyTerm are haproxy's termination states, the most common first.
var haproxyTerm = []string{"----", "CD--", "SD--", "sH--", "cR--"}

// haproxyFrontends are the frontend and backend pairs: names, so
// parameters of the log line.
var haproxyFrontends = [][2]string{{"https-in", "app_backend"}, {"https-in", "api_backend"}, {"http-in", "static_backend"}}

// haproxyLog[term][method] is a haproxy HTTP log line with that
// termination state and method.
var haproxyLog = func() (out [5][2]*line) {
	for t, term := range haproxyTerm {
		for m, meth := range httpMethods[:2] {
			out[t][m] = ln("haproxy", `{$0}:{port} [{$9}] {$b} {$c}/{$6} {n}/0/{n}/{d}/{D} {$2} {$3} - - `+term+` {d}/{d}/{d}/{d}/0 0/0 "`+meth+` {$1} HTTP/1.1"`)
		}
	}
	return out
}()

var (
	haproxyDown = lsev("haproxy", floodgate.Alert, `Server {$7}/{$6} is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. {n} active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`)
	haproxyUp   = lsev("haproxy", floodgate.Notice, `Server {$7}/{$6} is UP, reason: Layer7 check passed, code: 200, check duration: {n}ms. {n} active and 0 backup servers online. 0 sessions requeued, 0 total in queue.`)
)

func init() {
	haproxyDown.near, haproxyUp.near = "haproxy-server", "haproxy-server"
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/69.0.3497.100 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/11.1.2 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 11_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/11.0 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:62.0) Gecko/20100101 Firefox/62.0",
	"Mozilla/5.0 (Linux; Android 8.0.0; SM-G950F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/68.0.3440.91 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/69.0.3497.81 Safari/537.36",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"Mozilla/5.0 (compatible; AhrefsBot/6.1; +http://ahrefs.com/robot/)",
	"curl/7.58.0",
	"python-requests/2.19.1",
	"Go-http-client/1.1",
	"okhttp/3.11.0",
	"kube-probe/1.11",
	"Prometheus/2.3.2",
	"Wget/1.19.4 (linux-gnu)",
	"Mozilla/5.0 zgrab/0.x",
	"masscan/1.0 (https://github.com/robertdavidgraham/masscan)",
	"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
	"Mozilla/5.0 (iPad; CPU OS 11_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/11.0 Mobile/15E148 Safari/604.1",
	"Apache-HttpClient/4.5.6 (Java/1.8.0_181)",
	"axios/0.18.0",
	"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
	"Twitterbot/1.0",
}

// webPaths returns request paths as a shop's site and API see them: REST
// resources with ids, static assets with content hashes, pages with
// slugs, query strings, and the probes scanners send.
func webPaths(g *flood) []string {
	out := []string{"/", "/healthz", "/metrics", "/favicon.ico", "/robots.txt", "/login", "/logout", "/cart", "/checkout", "/search"}
	people := personNames()
	res := []string{"orders", "users", "products", "carts", "invoices", "payments", "sessions", "reviews", "shipments", "coupons"}
	for i := range 1500 {
		r := res[g.r.IntN(len(res))]
		id := strconv.Itoa(1000 + g.r.IntN(900000))
		switch i % 5 {
		case 0:
			out = append(out, "/api/v1/"+r+"/"+id)
		case 1:
			out = append(out, "/api/v2/"+r+"/"+id+"/items")
		case 2:
			out = append(out, "/api/v1/"+r+"?page="+strconv.Itoa(1+g.r.IntN(40))+"&per_page=50")
		case 3:
			out = append(out, "/static/js/"+[]string{"app", "vendor", "main", "runtime"}[g.r.IntN(4)]+"."+string(appendHexFixed(nil, g.r.Uint64(), 8))+".js")
		default:
			out = append(out, "/"+[]string{"product", "category", "blog", "help"}[g.r.IntN(4)]+"/"+people[g.r.IntN(len(people))]+"-"+chatWords[g.r.IntN(len(chatWords))])
		}
	}
	out = append(out, "/wp-login.php", "/.env", "/phpmyadmin/index.php", "/admin/config.php", "/.git/config", "/cgi-bin/luci", "/HNAP1/", "/boaform/admin/formLogin", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/solr/admin/info/system")
	return out
}

var webReferrers = []string{"-", "https://shop.example.com/", "https://www.google.com/", "https://shop.example.com/cart", "https://shop.example.com/search?q=shoes",
	"https://www.bing.com/", "https://t.co/x7Yq2", "https://shop.example.com/product/blue-widget", "android-app://com.google.android.gm", "https://duckduckgo.com/"}

type web struct {
	lb      bool
	ips     *pool
	paths   *pool
	uas     *pool
	refs    *pool
	servers *pool
	busy    float64 // current rate multiplier
	until   time.Time
	pid     string
}

// webStatus holds status codes in proportion to how often a busy site
// answers them: mostly 200, some redirects and 304s, a few client errors
// and under 2% server errors.
var webStatus = func() []int {
	var out []int
	for _, c := range []struct{ code, per1000 int }{
		{200, 790}, {304, 60}, {301, 15}, {302, 20}, {204, 10}, {201, 10},
		{404, 50}, {401, 10}, {403, 8}, {400, 5}, {499, 4},
		{500, 8}, {502, 6}, {503, 3}, {504, 1},
	} {
		for range c.per1000 {
			out = append(out, c.code)
		}
	}
	return out
}()

func newWeb(c kindConfig) *flood {
	g := newFlood(c.seed, c.n)
	ips := publicIPs(g.r, 5000)
	paths := webPaths(g)
	servers := hostNames("web", 12)
	for i, h := range c.hosts {
		b := &web{
			lb:      h[:2] == "lb",
			ips:     newPool(1.1, shuffled(g.r, ips)),
			paths:   newPool(1.2, paths),
			uas:     newPool(1.4, userAgents),
			refs:    newPool(1.5, webReferrers),
			servers: newPool(1.1, servers),
			busy:    1,
			pid:     strconv.Itoa(1201 + 17*i),
		}
		s := &source{host: h, app: "nginx", pid: "", fac: 23, sev: floodgate.Info, b: b}
		if b.lb {
			s.app, s.pid = "haproxy", strconv.Itoa(880+i)
		}
		g.addSource(s, c.start, time.Second)
	}
	return g
}

func (w *web) event(g *flood, s *source) {
	r := s.r
	if !s.at.Before(w.until) {
		// A new spell: quiet nights, busy hours, short rushes.
		w.busy = []float64{0.3, 0.7, 1, 1, 1.5, 3, 6}[r.IntN(7)]
		w.until = s.at.Add(g.paced(between(r, time.Minute, 15*time.Minute)))
	}
	s.next = exp(r, time.Duration(float64(80*time.Millisecond)/w.busy))
	s.set(0, w.ips.pick(r))
	s.set(1, w.paths.pick(r))
	st := webStatus[r.IntN(len(webStatus))]
	s.setInt(2, st)
	s.setInt(3, r.IntN(40000))
	s.set(4, w.refs.pick(r))
	s.set(5, w.uas.pick(r))
	s.set(6, w.servers.pick(r))
	if w.lb {
		s.slots[9] = s.at.AppendFormat(s.slots[9][:0], "02/Jan/2006:15:04:05.000")
		if r.IntN(4000) == 0 {
			s.set(7, haproxyFrontends[r.IntN(len(haproxyFrontends))][1])
			s.add(haproxyDown, 0)
			s.add(haproxyUp, between(r, 5*time.Second, 90*time.Second))
			return
		}
		f, t, m := r.IntN(3), 0, 0
		if x := r.IntN(100); x >= 90 {
			t = 1 + x%4
		}
		if r.IntN(5) == 0 {
			m = 1
		}
		s.set(11, haproxyFrontends[f][0])
		s.set(12, haproxyFrontends[f][1])
		s.add(haproxyLog[t][m], 0)
		return
	}
	s.slots[9] = s.at.AppendFormat(s.slots[9][:0], "02/Jan/2006:15:04:05 -0700")
	m := 0
	if x := r.IntN(100); x >= 80 {
		m = 1 + x%4
	}
	s.set(10, "1.1")
	if r.IntN(3) == 0 {
		s.set(10, "2.0")
	}
	if st >= 500 || st == 404 && r.IntN(4) == 0 {
		s.slots[8] = s.at.AppendFormat(s.slots[8][:0], "2006/01/02 15:04:05")
		s.set(6, "shop.example.com")
		s.set(7, w.pid)
		switch {
		case st == 404:
			s.add(nginxNoFile, 0)
		case st == 502:
			s.add(nginxRefused, 0)
		case st == 504 || r.IntN(2) == 0:
			s.add(nginxTimedOut, 0)
		default:
			s.add(nginxBuffered, 0)
		}
		s.add(nginxAccess[m], time.Millisecond)
		return
	}
	s.add(nginxAccess[m], 0)
}
