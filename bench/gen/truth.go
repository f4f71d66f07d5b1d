package gen

import (
	"fmt"
	"strings"
	"time"
)

// Truth describes the message the last Next call produced, as the author
// of the program that logged it would: which template it came from, which
// multi-line block it belongs to. Tests compare a deduplicator's grouping
// with it.
type Truth struct {
	// Kind names the kind (see Kinds) that produced the message, so a
	// mixed capture can be broken down.
	Kind string
	// Template is the app name, ": " and the message's template with its
	// meaningful words filled in and every variable place (numbers, ids,
	// addresses, parameter words such as user names, pod names or paths)
	// as "<*>", e.g. "sshd: Invalid user <*> from <*> port <*>". A "<*>"
	// may stand for several words (a user agent).
	//
	// The rule: a place is filled in when its values are few and each
	// changes what the line says (Failed/Accepted, a result or exit
	// status text, a level, an HTTP method, a firewall action or TCP
	// flags, a probe type, an exception class, a frame, a task's
	// function); it is a "<*>" when its values are many or name things
	// (users, hosts, addresses, pods, containers, units, paths, commands,
	// ids, numbers, durations), even where one source shows only a few
	// of them. Two messages with the
	// same Template are the same pattern; two single lines with different
	// Templates are different patterns, and no two such Templates of one
	// flood are the same once their numbers, hex values and UUIDs are
	// masked. (Two frames of a stack may differ only in a line number:
	// in a block, the block is the pattern.) Empty for free text.
	Template string
	// Block is nonzero for a line of a multi-line block (a stack trace, a
	// goroutine, a config dump): the same for every line of one block
	// instance, different for every instance.
	Block uint64
	// BlockTemplate names a block's frames: two block instances with the
	// same BlockTemplate are the same block pattern. Empty for a single
	// line.
	BlockTemplate string
	// Free marks free text (a chat line, user input): it has no template
	// and a correct relay writes every such line.
	Free bool
	// NearMiss names the near-miss group of a line whose template differs
	// from others of its group in one meaningful word (Failed/Accepted,
	// OK/FAILED): no two Templates of one group may be folded together.
	NearMiss string
}

// Truther is implemented by the generators that know the truth about
// their messages: every kind New offers. Truth is cheap (no allocation)
// but only tests need it.
type Truther interface {
	Truth() Truth
}

// kinds maps a kind's name to its constructor, in the order Kinds lists
// them.
var kinds = []struct {
	name string
	doc  string
	new  func(seed int64, n int) Generator
}{
	{"incident", "the dockerd goroutine-dump incident with its restart loop", func(seed int64, n int) Generator {
		c := DefaultIncident()
		c.Seed, c.Messages = seed, n
		return NewIncident(c)
	}},
	{"unique", "every line a pattern of its own", NewUnique},
	{"java", "Java exception traces", NewJava},
	{"python", "Python tracebacks", NewPython},
	{"mix", "incident, java, python and unique merged", NewMix},
	{"sshd", "an sshd brute force from many addresses with many user names", NewSSHD},
	{"nearmiss", "lines that differ in one meaningful word", NewNearMiss},
	{"chat", "free-text chat lines relayed by a bridge", NewChat},
	{"web", "nginx and haproxy access and error lines", NewWeb},
	{"kubelet", "kubelet CrashLoopBackOff across many pods", NewKubelet},
	{"ufw", "UFW kernel lines with MACs, addresses and ports", NewUFW},
	{"kafka", "Kafka consumers crash-looping with config dumps and traces", NewKafka},
	{"celery", "Celery workers with chained Python tracebacks", NewCelery},
	{"ids", "a new UUID, container id or hex id in every line", NewIDs},
	{"systemd", "systemd restart loops, one with Go 1.23 goroutine dumps", NewSystemd},
	{"background", "cron, timers, sessions, postfix and other ordinary traffic", NewBackground},
	{"poison", "a place flooded with new words after two recurring ones", NewPoison},
	{"capture", "a two-hour mixed capture of 18 hosts with all of the above", NewCapture},
}

// Kinds returns the names New accepts.
func Kinds() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.name
	}
	return out
}

// New returns n messages of the named kind (see Kinds), deterministic by
// seed.
func New(kind string, seed int64, n int) (Generator, error) {
	for _, k := range kinds {
		if k.name == kind {
			return k.new(seed, n), nil
		}
	}
	return nil, fmt.Errorf("unknown kind %q (want one of %s)", kind, strings.Join(Kinds(), ", "))
}

// captureStart is when the floods of the newer kinds begin: the incident's
// start, so that they merge with it.
var captureStart = time.Date(2018, time.September, 11, 1, 23, 58, 0, time.UTC)

// NearMissPair reports whether two Templates differ in exactly one word:
// a pair that must never be counted under one fingerprint.
func NearMissPair(a, b string) bool {
	wa, wb := strings.Fields(a), strings.Fields(b)
	if len(wa) != len(wb) {
		return false
	}
	diff := 0
	for i := range wa {
		if wa[i] != wb[i] {
			diff++
		}
	}
	return diff == 1
}
