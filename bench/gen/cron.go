package gen

import (
	"strconv"
	"time"

	"github.com/floodgate/floodgate"
)

// NewBackground returns n messages of the ordinary traffic of healthy
// hosts (six by default): cron jobs every minute, five minutes and hour
// with their PAM session lines, systemd timers (apt, logrotate, man-db)
// and user sessions, timesyncd, rsyslogd's HUP, dbus activations, snapd,
// and postfix connections from many addresses. Cron's users and
// commands are names, parameters of its lines; PIDs, session numbers and
// addresses vary.
func NewBackground(seed int64, n int) Generator {
	return build("background", kindConfig{seed: seed, n: n, hosts: hostNames("host", 6)}, newBackgroundFlood)
}

type cronJob struct {
	every     time.Duration
	user, uid string
	cmd       string
}

var cronJobs = []cronJob{
	{time.Minute, "root", "0", "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi"},
	{5 * time.Minute, "www-data", "33", "php -f /var/www/nextcloud/cron.php"},
	{time.Hour, "root", "0", "   cd / && run-parts --report /etc/cron.hourly"},
	{10 * time.Minute, "postgres", "113", "/usr/local/bin/pg_backup.sh >/dev/null 2>&1"},
	{15 * time.Minute, "backup", "34", "/usr/bin/rsync -a /srv/ /backup/srv/ --delete"},
}

// Cron's lines: the user and the command are parameters (names), as in
// cron's own format strings.
var (
	cronCmd   = ln("CRON", "({$0}) CMD ({$1})")
	cronOpen  = ln("CRON", "pam_unix(cron:session): session opened for user {$0}(uid={$2}) by (uid=0)")
	cronClose = ln("CRON", "pam_unix(cron:session): session closed for user {$0}")
)

var (
	cronNoMTA     = ln("CRON", "(CRON) info (No MTA installed, discarding output)")
	bgAptStart    = ln("systemd", "Starting Daily apt download activities...")
	bgAptDone     = ln("systemd", "apt-daily.service: Deactivated successfully.").param("apt-daily.service")
	bgAptFinished = ln("systemd", "Finished Daily apt download activities.")
	bgLogrotate   = ln("systemd", "Starting Rotate log files...")
	bgLogrotDone  = ln("systemd", "logrotate.service: Deactivated successfully.").param("logrotate.service")
	bgLogrotFin   = ln("systemd", "Finished Rotate log files.")
	bgManDB       = ln("systemd", "Starting Daily man-db regeneration...")
	bgManDBDone   = ln("systemd", "man-db.service: Deactivated successfully.").param("man-db.service")
	bgSession     = ln("systemd", "Started Session {$0} of User {$1}.")
	bgSessionDone = ln("systemd", "session-{$0}.scope: Deactivated successfully.")
	bgTimesync    = lalt("systemd-timesyncd", "Initial synchronization to time server {$2}:123 (ntp.ubuntu.com).")
	bgHUP         = lalt("rsyslogd", `[origin software="rsyslogd" swVersion="8.2112.0" x-pid="{$3}" x-info="https://www.rsyslog.com"] rsyslogd was HUPed`)
	bgDbus        = lalt("dbus-daemon", `[system] Activating via systemd: service name='org.freedesktop.hostname1' unit='dbus-org.freedesktop.hostname1.service' requested by ':1.{$3}' (uid=0 pid={$4} comm="hostnamectl" label="unconfined")`)
	bgDbusDone    = lalt("dbus-daemon", `[system] Successfully activated service 'org.freedesktop.hostname1'`)
	bgSnapd       = lalt("snapd", `storehelpers.go:769: cannot refresh: snap has no updates available: "core20", "lxd", "snapd"`)
	bgConnect     = lalt("postfix/smtpd", "connect from unknown[{$2}]")
	bgLostConn    = lalt("postfix/smtpd", "lost connection after AUTH from unknown[{$2}]")
	bgDisconnect  = lalt("postfix/smtpd", "disconnect from unknown[{$2}] ehlo=1 auth=0/1 quit=1 commands=2/3")
)

type bgHost struct {
	kind  int // 0: a cron job; 1: the rest
	job   *cronJob
	pid   int
	sess  int
	users *pool
	ips   *pool
}

func newBackgroundFlood(c kindConfig) *flood {
	g := newFlood(c.seed, c.n)
	ips := publicIPs(g.r, 3000)
	for _, h := range c.hosts {
		for i := range cronJobs {
			j := &cronJobs[i]
			b := &bgHost{job: j, pid: 1000 + g.r.IntN(30000)}
			g.addSource(&source{host: h, app: "CRON", fac: 9, sev: floodgate.Info, b: b}, c.start, j.every)
		}
		b := &bgHost{kind: 1, pid: 1000 + g.r.IntN(30000), sess: 1 + g.r.IntN(400),
			users: newPool(1.5, []string{"ubuntu", "deploy", "admin", "anna", "john.smith", "ci", "backup", "ansible"}),
			ips:   newPool(1.05, shuffled(g.r, ips))}
		g.addSource(&source{host: h, app: "systemd", pid: "1", fac: 3, sev: floodgate.Info, b: b}, c.start, 10*time.Second)
	}
	return g
}

func (b *bgHost) event(g *flood, s *source) {
	r := s.r
	ms := time.Millisecond
	b.pid += 1 + r.IntN(60)
	if b.kind == 0 {
		s.pid = g.a.string(strconv.AppendInt(g.buf[:0], int64(b.pid), 10))
		s.set(0, b.job.user)
		s.set(1, b.job.cmd)
		s.set(2, b.job.uid)
		s.add(cronOpen, 0)
		s.add(cronCmd, ms)
		if r.IntN(10) == 0 {
			s.add(cronNoMTA, between(r, 10*ms, 2*time.Second))
		}
		s.add(cronClose, between(r, 10*ms, 5*time.Second))
		s.next = b.job.every
		return
	}
	s.next = exp(r, 20*time.Second)
	s.pid2 = g.a.string(strconv.AppendInt(g.buf[:0], int64(b.pid), 10))
	s.setInt(3, r.IntN(900))
	s.setInt(4, b.pid+1+r.IntN(20))
	switch x := r.IntN(20); {
	case x < 6:
		b.sess++
		s.setInt(0, b.sess)
		s.set(1, b.users.pick(r))
		s.add(bgSession, 0)
		s.add(bgSessionDone, between(r, 10*time.Second, 10*time.Minute))
	case x < 11:
		s.set(2, b.ips.pick(r))
		s.add(bgConnect, 0)
		if r.IntN(2) == 0 {
			s.add(bgLostConn, between(r, 100*ms, 5*time.Second))
		}
		s.add(bgDisconnect, between(r, 10*ms, 2*time.Second))
	case x < 13:
		s.add(bgAptStart, 0)
		s.add(bgAptDone, between(r, time.Second, 30*time.Second))
		s.add(bgAptFinished, ms/10)
	case x < 14:
		s.add(bgLogrotate, 0)
		s.add(bgLogrotDone, between(r, 100*ms, 3*time.Second))
		s.add(bgLogrotFin, ms/10)
		s.add(bgHUP, ms)
	case x < 15:
		s.add(bgManDB, 0)
		s.add(bgManDBDone, between(r, time.Second, 20*time.Second))
	case x < 17:
		s.add(bgDbus, 0)
		s.add(bgDbusDone, 20*ms)
	case x < 18:
		s.slots[2] = appendIPv4(s.slots[2][:0], 185, 125, 190, 56+r.IntN(3))
		s.add(bgTimesync, 0)
	default:
		s.add(bgSnapd, 0)
	}
}
