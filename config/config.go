package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Config is floodgate's whole configuration.
type Config struct {
	Inputs    []Input   `toml:"input"`
	Outputs   []Output  `toml:"output"`
	Dedupe    Dedupe    `toml:"dedupe"`
	RateLimit RateLimit `toml:"ratelimit"`
	Metrics   Metrics   `toml:"metrics"`
	Relay     Relay     `toml:"relay"`

	// lines maps a key path ("ratelimit.rate", "input[1].address") to the
	// line it was set on; empty for Default.
	lines map[string]int
}

// Metrics is the [metrics] section.
type Metrics struct {
	// Address serves Prometheus text format at /metrics, and the live
	// views at /api/v1/; "" disables both.
	Address string `toml:"address"`
	// Token, when set, is the bearer token the /api/v1/ endpoints ask
	// for: they serve message text. /metrics stays open.
	Token string `toml:"token"`
	// TokenFile names a file holding the token (trailing space trimmed),
	// read at start; exclusive with Token.
	TokenFile string `toml:"token_file"`
	// Sources is how many sources get per-source series of their own
	// (the top ones by bytes, first come); the rest are host="other".
	Sources int `toml:"sources"`
}

// Relay is the [relay] section: the pipeline's own knobs.
type Relay struct {
	// Shards is the number of workers sources are spread over; 0 means
	// one per CPU.
	Shards int `toml:"shards"`
	// Queue is the number of batches (of up to 512 messages each) a shard
	// may have waiting before the inputs that feed it slow down. It is
	// what bounds memory when writing is slower than reading: 1024 held
	// half a million parsed messages (250 MB on unique lines), 16 holds
	// 8,192 per shard and is as fast.
	Queue int `toml:"queue"`
	// FlushInterval is how often buffered output is written out and stage
	// timers are ticked.
	FlushInterval Duration `toml:"flush_interval"`
	// DrainTimeout bounds how long shutdown waits for stream clients.
	DrainTimeout Duration `toml:"drain_timeout"`
	// StateDir is where `run` keeps its checkpoint of pending summary
	// counts, so that a crash loses at most about a second of them and
	// the next start says how many: a directory of its own, outside the
	// output tree (systemd's StateDirectory, /var/lib/floodgate). "" turns
	// checkpoints off. The built-in defaults use ./floodgate-state; a
	// config file that leaves it out has none.
	StateDir string `toml:"state_dir"`
}

// Default returns the built-in configuration the README documents: UDP and TCP on
// 127.0.0.1:5514, traditional files under ./floodgate-logs, dedupe and
// budgets on, metrics on 127.0.0.1:9514.
func Default() *Config {
	c := &Config{
		Dedupe:    defaultDedupe(),
		RateLimit: defaultRateLimit(),
		Metrics:   Metrics{Address: "127.0.0.1:9514", Sources: 100},
		Relay:     defaultRelay(),
	}
	c.Inputs = []Input{
		{Type: "udp", Address: "127.0.0.1:5514"},
		{Type: "tcp", Address: "127.0.0.1:5514"},
	}
	c.Outputs = []Output{{Type: "file", Path: "floodgate-logs/{host}/{app}.log"}}
	c.Relay.StateDir = "floodgate-state"
	c.fill()
	return c
}

func defaultRelay() Relay {
	return Relay{
		Queue:         16,
		FlushInterval: Duration(200e6), // 200ms
		DrainTimeout:  Duration(5e9),
	}
}

// Error is a problem with a config value, with the line it was set on
// (0 when the value is a default or the line is unknown).
type Error struct {
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return e.Key + ": " + e.Msg
}

// Errors is every problem Validate found, in file order.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse reads a TOML configuration over the defaults. Unknown keys and
// values of the wrong type are errors (an Errors value with lines).
// Sections left out keep their defaults; [[input]] and [[output]], when
// present, replace the default inputs and outputs.
func Parse(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c := Default()
	c.Inputs, c.Outputs = nil, nil
	// A relative default would land in whatever directory a service
	// starts in: a config file names its state directory or has none.
	c.Relay.StateDir = ""
	lines := keyLines(data)
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := pe.Message
			if pe.LastKey != "" {
				return nil, Errors{{Line: pe.Position.Line, Key: pe.LastKey, Msg: msg}}
			}
			return nil, Errors{{Line: pe.Position.Line, Msg: msg}}
		}
		return nil, Errors{decodeError(err)}
	}
	var errs Errors
	for _, k := range md.Undecoded() {
		path := k.String()
		errs = append(errs, &Error{Line: lines.find(k), Key: path, Msg: "unknown key"})
	}
	if len(errs) > 0 {
		sortErrors(errs)
		return nil, errs
	}
	if !md.IsDefined("input") {
		c.Inputs = Default().Inputs
	}
	if !md.IsDefined("output") {
		c.Outputs = Default().Outputs
	}
	c.lines = lines.byPath
	c.fill()
	return c, nil
}

// fill puts defaults into fields of array tables left at zero.
func (c *Config) fill() {
	for i := range c.Inputs {
		c.Inputs[i].fill()
	}
	for i := range c.Outputs {
		c.Outputs[i].fill()
	}
	d := defaultRelay()
	if c.Relay.Queue == 0 {
		c.Relay.Queue = d.Queue
	}
	if c.Relay.FlushInterval == 0 {
		c.Relay.FlushInterval = d.FlushInterval
	}
	if c.Relay.DrainTimeout == 0 {
		c.Relay.DrainTimeout = d.DrainTimeout
	}
}

// Validate checks every value and returns all problems found (Errors), or
// nil.
func (c *Config) Validate() error {
	var v validator
	v.lines = c.lines
	if len(c.Inputs) == 0 {
		v.add("input", "no inputs: configure at least one [[input]]")
	}
	for i := range c.Inputs {
		c.Inputs[i].validate(&v, fmt.Sprintf("input[%d]", i))
	}
	validateAddresses(&v, c)
	if len(c.Outputs) == 0 {
		v.add("output", "no outputs: configure at least one [[output]]")
	}
	for i := range c.Outputs {
		c.Outputs[i].validate(&v, fmt.Sprintf("output[%d]", i))
	}
	validateQueueDirs(&v, c.Outputs)
	c.Dedupe.validate(&v)
	c.RateLimit.validate(&v)
	if c.Relay.Shards < 0 || c.Relay.Shards > 1024 {
		v.add("relay.shards", "%d is out of range: want 0 (one per CPU) to 1024", c.Relay.Shards)
	}
	if c.Relay.Queue < 1 {
		v.add("relay.queue", "%d: want at least 1", c.Relay.Queue)
	}
	if c.Metrics.Token != "" && c.Metrics.TokenFile != "" {
		v.add("metrics.token_file", "set token or token_file, not both")
	}
	if c.Metrics.Sources < 0 || c.Metrics.Sources > 10000 {
		v.add("metrics.sources", "%d is out of range: want 0 to 10000", c.Metrics.Sources)
	}
	if len(v.errs) == 0 {
		return nil
	}
	sortErrors(v.errs)
	return v.errs
}

// Line returns the line a key path ("ratelimit.rate", "output[0].path")
// was set on, or 0.
func (c *Config) Line(path string) int { return c.lines[path] }

// validator collects errors with their lines.
type validator struct {
	lines map[string]int
	errs  Errors
}

// add records a problem with the value at path. The line is that of path,
// or of the nearest enclosing table that was written.
func (v *validator) add(path, format string, args ...any) {
	line := 0
	for p := path; p != ""; {
		if l, ok := v.lines[p]; ok {
			line = l
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	v.errs = append(v.errs, &Error{Line: line, Key: path, Msg: fmt.Sprintf(format, args...)})
}

func sortErrors(es Errors) {
	// Insertion sort: a handful of errors, stable by line.
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Line < es[j-1].Line; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// decodeLine matches the position BurntSushi/toml puts in the text of
// errors that are not a ParseError (type mismatches).
var decodeLine = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

func decodeError(err error) *Error {
	m := decodeLine.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{Msg: err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	return &Error{Line: line, Key: m[2], Msg: m[3]}
}
