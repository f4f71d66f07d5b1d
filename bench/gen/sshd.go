package gen

import (
	"strconv"
	"sync"
	"time"

	"github.com/floodgate/floodgate"
)

// kindConfig places a kind's flood: its seed, size, start, the hosts it
// runs on and, when span is set, how long its n messages last (0: the
// kind's natural rates).
type kindConfig struct {
	seed  int64
	n     int
	start time.Time
	span  time.Duration
	hosts []string
}

// build makes the flood of kind with mk, paced to c.span.
func build(kind string, c kindConfig, mk func(kindConfig) *flood) *flood {
	if c.start.IsZero() {
		c.start = captureStart
	}
	g := mk(c)
	g.kind = kind
	spanned(g, c.span, func() *flood { return mk(c) })
	return g
}

// NewSSHD returns n messages of an sshd brute force against three
// internet-facing hosts, in OpenSSH's own wordings: dictionary attacks
// with a new user name at every connection ("Invalid user oracle from
// 203.0.113.9 port 51234", "Failed password for invalid user ..."),
// root hammering up to "maximum authentication attempts exceeded",
// scanners that never authenticate, and now and then a legitimate
// "Accepted publickey for deploy" or "Accepted password" (the near miss
// of "Failed password"). Attackers come from a pool of 4,000 addresses
// and try names from a list of some 1,400, both drawn with a Zipf law;
// each host has three attack streams that go quiet between campaigns
// (half of them botnets that change address at every connection), and
// each connection has its own sshd PID and source port.
func NewSSHD(seed int64, n int) Generator {
	return build("sshd", kindConfig{seed: seed, n: n, hosts: []string{"bastion-01", "gw-01", "vpn-01"}}, newSSHD)
}

var (
	sshInvalid       = ln("sshd", "Invalid user {$0} from {$1} port {$2}")
	sshCheckPass     = ln("sshd", "pam_unix(sshd:auth): check pass; user unknown")
	sshAuthFailAnon  = ln("sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={$1}")
	sshAuthFailUser  = ln("sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={$1}  user={$0}")
	sshFailedInvalid = ln("sshd", "Failed password for invalid user {$0} from {$1} port {$2} ssh2")
	sshFailed        = ln("sshd", "Failed password for {$0} from {$1} port {$2} ssh2")
	sshAccepted      = ln("sshd", "Accepted password for {$0} from {$1} port {$2} ssh2")
	sshAcceptedKey   = ln("sshd", "Accepted publickey for {$0} from {$1} port {$2} ssh2: ED25519 SHA256:{$3}")
	sshByeBye        = ln("sshd", "Received disconnect from {$1} port {$2}:11: Bye Bye [preauth]")
	sshDiscInvalid   = ln("sshd", "Disconnected from invalid user {$0} {$1} port {$2} [preauth]")
	sshDiscAuth      = ln("sshd", "Disconnected from authenticating user {$0} {$1} port {$2} [preauth]")
	sshClosedInvalid = ln("sshd", "Connection closed by invalid user {$0} {$1} port {$2} [preauth]")
	sshClosedAuth    = ln("sshd", "Connection closed by authenticating user {$0} {$1} port {$2} [preauth]")
	sshClosed        = ln("sshd", "Connection closed by {$1} port {$2} [preauth]")
	sshMaxAuth       = lsev("sshd", floodgate.Err, "error: maximum authentication attempts exceeded for {$0} from {$1} port {$2} ssh2 [preauth]")
	sshTooMany       = ln("sshd", "Disconnecting authenticating user {$0} {$1} port {$2}: Too many authentication failures [preauth]")
	sshPAMMore       = ln("sshd", "PAM {n} more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={$1}  user={$0}")
	sshNoIdent       = ln("sshd", "Did not receive identification string from {$1} port {$2}")
	sshKexReset      = lsev("sshd", floodgate.Err, "error: kex_exchange_identification: read: Connection reset by peer")
	sshKexClosed     = lsev("sshd", floodgate.Err, "error: kex_exchange_identification: Connection closed by remote host")
	sshBanner        = ln("sshd", "banner exchange: Connection from {$1} port {$2}: invalid format")
	sshTimeout       = ln("sshd", "Timeout before authentication for {$1} port {$2}")
	sshUserauthRSA   = ln("sshd", "userauth_pubkey: key type ssh-rsa not in PubkeyAcceptedAlgorithms [preauth]")
	sshThanks        = ln("sshd", "Received disconnect from {$1} port {$2}:11: Normal Shutdown, Thank you for playing [preauth]")
	sshResetAuth     = ln("sshd", "Connection reset by authenticating user {$0} {$1} port {$2} [preauth]")
	sshNegotiate     = ln("sshd", "Unable to negotiate with {$1} port {$2}: no matching host key type found. Their offer: ssh-rsa,ssh-dss [preauth]")
	sshSessOpen      = ln("sshd", "pam_unix(sshd:session): session opened for user {$0}(uid={$4}) by (uid=0)")
	sshSessClose     = ln("sshd", "pam_unix(sshd:session): session closed for user {$0}")
	sshRecvDisc      = ln("sshd", "Received disconnect from {$1} port {$2}:11: disconnected by user")
	sshDisconnected  = ln("sshd", "Disconnected from user {$0} {$1} port {$2}")
	logindNew        = lalt("systemd-logind", "New session {$5} of user {$0}.")
	logindRemoved    = lalt("systemd-logind", "Session {$5} logged out. Waiting for processes to exit.")
)

func init() {
	sshFailed.near, sshAccepted.near = "ssh-password", "ssh-password"
}

// sshUsers are user names as brute-force dictionaries hold them, the most
// tried first; sshTail adds the long tail.
var sshUsers = []string{
	"admin", "test", "user", "ubuntu", "oracle", "postgres", "guest", "git", "ftpuser", "support",
	"deploy", "dev", "pi", "mysql", "hadoop", "jenkins", "nagios", "ftp", "www", "ubnt",
	"administrator", "test1", "user1", "centos", "minecraft", "steam", "teamspeak", "ts3", "zabbix", "tomcat",
	"elastic", "kafka", "redis", "odoo", "sysadmin", "backup", "debian", "docker", "ansible", "vagrant",
	"oracle1", "testuser", "webadmin", "www-data", "apache", "nginx", "server", "master", "demo", "student",
	"sftp", "sales", "info", "office", "web", "db", "dbadmin", "operator", "uucp", "mail",
	"ec2-user", "azureuser", "gitlab-runner", "jira", "confluence", "sonar", "solr", "hdfs", "spark", "yarn",
	"es", "elk", "grafana", "prometheus", "gpadmin", "vnc", "bitrix", "wordpress", "wp", "cpanel",
	"plex", "openvpn", "vpn", "squid", "asterisk", "zimbra", "postfix", "dovecot", "named", "bind",
}

var (
	firstNames = []string{"john", "mike", "david", "chris", "alex", "anna", "maria", "paul", "mark", "peter",
		"james", "robert", "daniel", "laura", "sara", "kevin", "tom", "nick", "eric", "lisa",
		"steve", "brian", "jason", "linda", "karen", "tony", "sam", "ryan", "adam", "emma",
		"oliver", "lucas", "marco", "ivan", "olga", "wei", "li", "raj", "amit", "yuki"}
	lastNames = []string{"smith", "jones", "brown", "miller", "wilson", "moore", "taylor", "lee", "walker", "hall",
		"young", "king", "wright", "lopez", "hill", "scott", "green", "baker", "adams", "nelson",
		"rossi", "muller", "schmidt", "novak", "ivanov", "chen", "wang", "kumar", "sato", "silva"}
)

// personNames returns the names people have on servers, in several
// spellings: "john", "john.smith", "jsmith", "john1", "smithj". The
// slice is shared: read only.
var personNames = sync.OnceValue(func() []string {
	out := append([]string(nil), firstNames...)
	for i, f := range firstNames {
		for j, l := range lastNames {
			switch (i + j) % 4 {
			case 0:
				out = append(out, f+"."+l)
			case 1:
				out = append(out, f[:1]+l)
			case 2:
				out = append(out, f+"_"+l)
			default:
				out = append(out, l+f[:1])
			}
		}
		out = append(out, f+strconv.Itoa(1+i%9), f+"123")
	}
	return out
})

// sshAttack is one attack stream on one host: campaigns of connections
// from one attacker, quiet spells between them.
type sshAttack struct {
	ips, users, roots *pool
	legit             *pool
	left              int    // connections left in this campaign
	mode              int    // 0 dictionary, 1 root hammering, 2 scanner
	rotate            bool   // a botnet: a new address at every connection
	ip                string // the campaign's attacker
	pid               int
	session           int
}

func newSSHD(c kindConfig) *flood {
	g := newFlood(c.seed, c.n)
	ips := publicIPs(g.r, 4000)
	users := append(append([]string(nil), sshUsers...), shuffled(g.r, personNames())...)
	legit := []string{"deploy", "ansible", "ci", "backup", "jenkins", "admin", "ubuntu", "git"}
	for hi, h := range c.hosts {
		for k := range 4 {
			a := &sshAttack{
				ips:   newPool(1.05, shuffled(g.r, ips)),
				users: newPool(1.1, users),
				roots: newPool(2.5, []string{"root", "admin", "ubuntu", "user", "test", "oracle"}),
				legit: newPool(1.5, legit),
				pid:   2000 + 7919*hi + 1231*k,
			}
			s := &source{host: h, app: "sshd", pid2: strconv.Itoa(600 + hi*13), fac: 10, sev: floodgate.Info, b: a}
			if k == 3 {
				a.mode = 3 // legitimate logins
			}
			g.addSource(s, c.start, 30*time.Second)
		}
	}
	return g
}

func (a *sshAttack) event(g *flood, s *source) {
	r := s.r
	a.pid += 1 + r.IntN(40)
	s.pid = g.a.string(strconv.AppendInt(g.buf[:0], int64(a.pid), 10))
	s.slots[2] = strconv.AppendInt(s.slots[2][:0], int64(1024+r.IntN(64511)), 10)
	if a.mode == 3 {
		a.login(g, s)
		return
	}
	if a.left <= 0 {
		a.left = 3 + int(r.ExpFloat64()*60)
		a.ip = a.ips.pick(r)
		a.rotate = r.IntN(2) == 0
		switch x := r.IntN(10); {
		case x < 6:
			a.mode = 0
		case x < 9:
			a.mode = 1
		default:
			a.mode = 2
		}
	}
	a.left--
	if a.rotate {
		a.ip = a.ips.pick(r)
	}
	s.set(1, a.ip)
	ms := time.Millisecond
	switch a.mode {
	case 0: // a dictionary: a new user name at every connection
		s.set(0, a.users.pick(r))
		s.add(sshInvalid, 0)
		if r.IntN(8) == 0 {
			s.add(sshClosedInvalid, between(r, 100*ms, 400*ms))
			break
		}
		s.add(sshCheckPass, between(r, 50*ms, 200*ms))
		s.add(sshAuthFailAnon, ms/2)
		s.add(sshFailedInvalid, between(r, 1500*ms, 3000*ms))
		if r.IntN(3) == 0 {
			s.add(sshClosedInvalid, between(r, 100*ms, 600*ms))
		} else {
			s.add(sshByeBye, between(r, 100*ms, 600*ms))
			s.add(sshDiscInvalid, ms/10)
		}
	case 1: // root (or another real account) until sshd gives up
		s.set(0, a.roots.pick(r))
		s.add(sshAuthFailUser, between(r, 50*ms, 300*ms))
		s.add(sshFailed, between(r, 1500*ms, 3000*ms))
		tries := 1 + r.IntN(6)
		for range tries - 1 {
			s.add(sshFailed, between(r, 1500*ms, 3000*ms))
		}
		switch {
		case tries == 6:
			s.add(sshMaxAuth, between(r, 1500*ms, 3000*ms))
			s.add(sshTooMany, ms/10)
			s.add(sshPAMMore, ms/10)
		case r.IntN(2) == 0:
			if r.IntN(4) == 0 {
				s.add(sshThanks, between(r, 100*ms, 600*ms))
			} else {
				s.add(sshByeBye, between(r, 100*ms, 600*ms))
			}
			s.add(sshDiscAuth, ms/10)
		case r.IntN(3) == 0:
			s.add(sshResetAuth, between(r, 100*ms, 600*ms))
		default:
			s.add(sshClosedAuth, between(r, 100*ms, 600*ms))
		}
	default: // scanners: no authentication at all
		switch r.IntN(8) {
		case 6:
			s.add(sshTimeout, between(r, 100*time.Second, 130*time.Second))
		case 7:
			s.add(sshUserauthRSA, between(r, 100*ms, 900*ms))
			s.add(sshClosed, ms)
		case 0:
			s.add(sshClosed, between(r, 100*ms, 900*ms))
		case 1:
			s.add(sshNoIdent, between(r, 5*time.Second, 20*time.Second))
		case 2:
			s.add(sshKexReset, between(r, 100*ms, 900*ms))
		case 3:
			s.add(sshKexClosed, between(r, 100*ms, 900*ms))
		case 4:
			s.add(sshBanner, between(r, 100*ms, 900*ms))
		default:
			s.add(sshNegotiate, between(r, 100*ms, 900*ms))
		}
	}
	// Campaigns hammer every second or two; between them the stream is
	// quiet for minutes.
	s.next = between(r, 800*ms, 4*time.Second)
	if a.left == 0 {
		s.next = between(r, 30*time.Second, 10*time.Minute)
	}
}

// login is a legitimate session: a key (or, rarely, a password) is
// accepted, a session opens and closes minutes later.
func (a *sshAttack) login(g *flood, s *source) {
	r := s.r
	ms := time.Millisecond
	user := a.legit.pick(r)
	s.set(0, user)
	s.slots[1] = appendIPv4(s.slots[1][:0], 10, 20, r.IntN(4), 10+r.IntN(40))
	h := fnv64(user) // one key per user, as in life
	s.slots[3] = appendBase64ish(s.slots[3][:0], h, h*0x9e3779b97f4a7c15)
	s.setInt(4, 1000+len(user)%7)
	a.session++
	s.setInt(5, a.session)
	if r.IntN(5) == 0 {
		s.add(sshAccepted, 0)
	} else {
		s.add(sshAcceptedKey, 0)
	}
	s.add(sshSessOpen, ms)
	s.add(logindNew, 5*ms)
	s.add(sshRecvDisc, between(r, 2*time.Second, 5*time.Minute))
	s.add(sshDisconnected, ms/10)
	s.add(sshSessClose, ms/10)
	s.add(logindRemoved, ms)
	s.next = between(r, 20*time.Second, 15*time.Minute)
}

const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// appendBase64ish writes 43 base64 characters, the length of an
// unpadded SHA256 key fingerprint.
func appendBase64ish(dst []byte, a, b uint64) []byte {
	for i := range 43 {
		v := a
		if i >= 21 {
			v = b
		}
		dst = append(dst, base64Chars[v>>(6*uint(i%10))&63])
		if i%10 == 9 {
			a, b = a*0x9e3779b97f4a7c15+1, b*0xbf58476d1ce4e5b9+1
		}
	}
	return dst
}

// appendIPv4 writes a.b.c.d.
func appendIPv4(dst []byte, a, b, c, d int) []byte {
	dst = strconv.AppendInt(dst, int64(a), 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, int64(b), 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, int64(c), 10)
	dst = append(dst, '.')
	return strconv.AppendInt(dst, int64(d), 10)
}

// fnv64 hashes s (FNV-1a), to derive stable per-name values.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
