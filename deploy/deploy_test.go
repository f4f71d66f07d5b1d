package deploy

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/floodgate/floodgate/config"
)

const (
	unitFile   = "floodgate.service"
	socketFile = "floodgate.socket"
	binaryPath = "/usr/local/bin/floodgate"
	// maxExposure is the highest exposure systemd-analyze security rates
	// "OK".
	maxExposure = 3.0
)

// readUnit returns the service's directives, key to values in file order.
func readUnit(t *testing.T) map[string][]string {
	t.Helper()
	return readUnitFile(t, unitFile)
}

// readUnitFile returns a unit file's directives, key to values in file
// order.
func readUnitFile(t *testing.T, unitFile string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	d := map[string][]string{}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=VALUE", unitFile, line)
		}
		d[k] = append(d[k], v)
	}
	return d
}

func TestUnitDirectives(t *testing.T) {
	d := readUnit(t)
	tests := []struct {
		name string
		key  string
		want string // a value the key must have; "" means set to empty
	}{
		{"runs the installed binary", "ExecStart", binaryPath + " run -config /etc/floodgate/floodgate.toml"},
		{"checks the config first", "ExecStartPre", binaryPath + " check -config /etc/floodgate/floodgate.toml"},
		{"reload sends SIGHUP", "ExecReload", "/bin/kill -HUP $MAINPID"},
		{"floodgate says READY=1 once its inputs are bound", "Type", "notify"},
		{"only floodgate itself notifies", "NotifyAccess", "main"},
		{"restarts are capped", "StartLimitBurst", "5"},
		{"restart cap interval", "StartLimitIntervalSec", "300"},
		{"unix sockets under /run/floodgate", "RuntimeDirectory", "floodgate"},
		{"queue_dir under /var/lib/floodgate", "StateDirectory", "floodgate"},
		{"files under /var/log/floodgate", "LogsDirectory", "floodgate"},
		{"no capabilities", "CapabilityBoundingSet", ""},
		{"no ambient capabilities", "AmbientCapabilities", ""},
		{"only local and internet sockets", "RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"},
		{"system call allow list", "SystemCallFilter", "@system-service"},
		{"read-only system", "ProtectSystem", "strict"},
		{"no home directories", "ProtectHome", "yes"},
		{"no new privileges", "NoNewPrivileges", "yes"},
		{"no writable and executable memory", "MemoryDenyWriteExecute", "yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Contains(d[tt.key], tt.want) {
				t.Errorf("%s=%q, want %q among them", tt.key, d[tt.key], tt.want)
			}
		})
	}
	for _, key := range []string{"MemoryMax", "LimitNOFILE", "TimeoutStopSec"} {
		if len(d[key]) == 0 {
			t.Errorf("%s is not set", key)
		}
	}
}

// TestUnitPassesSystemdAnalyze runs systemd-analyze verify and security on
// a copy of the unit whose commands point at stand-ins, since verify wants
// every command to exist.
func TestUnitPassesSystemdAnalyze(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found (Debian package systemd): unit not verified")
	}
	dir := t.TempDir()
	stub := filepath.Join(dir, "floodgate")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(binaryPath)) {
		t.Fatalf("%s does not run %s", unitFile, binaryPath)
	}
	unit := filepath.Join(dir, unitFile)
	if err := os.WriteFile(unit, bytes.ReplaceAll(b, []byte(binaryPath), []byte(stub)), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("verify", func(t *testing.T) {
		out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})
	// The socket unit, beside the service it starts.
	t.Run("verify socket", func(t *testing.T) {
		b, err := os.ReadFile(socketFile)
		if err != nil {
			t.Fatal(err)
		}
		socket := filepath.Join(dir, socketFile)
		if err := os.WriteFile(socket, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", socket).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", socketFile, err, out)
		}
		// The README's second socket unit, for port 514.
		tcp := filepath.Join(dir, "floodgate-tcp.socket")
		if err := os.WriteFile(tcp, []byte(readmeBlock(t, "ini", "FileDescriptorName=floodgate-tcp")), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err = exec.Command(analyze, "verify", tcp).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify the README's floodgate-tcp.socket: %v\n%s", err, out)
		}
	})
	t.Run("security", func(t *testing.T) { security(t, analyze, unit) })

	// The README's drop-ins keep the unit valid and rated OK.
	dropIns := []struct {
		name string
		want string // a line of the README block
	}{
		{name: "journald socket", want: "ReadWritePaths=/run/systemd/journal"},
		{name: "port 514", want: "AmbientCapabilities=CAP_NET_BIND_SERVICE"},
	}
	dropIn := filepath.Join(dir, unitFile+".d")
	if err := os.Mkdir(dropIn, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range dropIns {
		t.Run(tt.name, func(t *testing.T) {
			conf := filepath.Join(dropIn, "readme.conf")
			if err := os.WriteFile(conf, []byte(readmeBlock(t, "ini", tt.want)), 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(conf)
			out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("systemd-analyze verify: %v\n%s", err, out)
			}
			security(t, analyze, unit)
		})
	}
}

// TestSocketUnit checks that floodgate.socket stands where syslog.socket
// does, journald's forwarding socket, and that the README's input taking
// it names its FileDescriptorName= and is a valid config.
func TestSocketUnit(t *testing.T) {
	d := readUnitFile(t, socketFile)
	for _, tt := range []struct{ key, want string }{
		{"ListenDatagram", "/run/systemd/journal/syslog"},
		{"SocketMode", "0666"},
		{"PassCredentials", "yes"},
		{"Conflicts", "syslog.socket"},
		{"WantedBy", "sockets.target"},
	} {
		if !slices.Contains(d[tt.key], tt.want) {
			t.Errorf("%s=%q, want %q among them", tt.key, d[tt.key], tt.want)
		}
	}
	if len(d["FileDescriptorName"]) != 1 {
		t.Fatalf("FileDescriptorName=%q, want one name", d["FileDescriptorName"])
	}
	name := d["FileDescriptorName"][0]
	for _, src := range []struct{ what, toml string }{
		{"README", readmeBlock(t, "toml", `fd_name = "`+name+`"`)},
		{socketFile, socketComment(t)},
	} {
		cfg, err := config.Parse(strings.NewReader(src.toml))
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			t.Fatalf("%s's input for the socket: %v\n%s", src.what, err, src.toml)
		}
		if in := cfg.Inputs[0]; in.Type != "unixgram" || in.FDName != name {
			t.Errorf("%s's input is %s fd_name=%q, want unixgram fd_name=%q", src.what, in.Type, in.FDName, name)
		}
	}
}

// socketComment returns the config the socket unit's comment shows.
func socketComment(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(socketFile)
	if err != nil {
		t.Fatal(err)
	}
	var toml strings.Builder
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "#   "); ok {
			toml.WriteString(rest)
		}
	}
	return toml.String() + "[[output]]\ntype = \"stdout\"\n"
}

// security runs systemd-analyze security on unit and wants it rated
// maxExposure or less.
func security(t *testing.T, analyze, unit string) {
	t.Helper()
	// --threshold takes the exposure times ten: fail above 3.0.
	out, err := exec.Command(analyze, "security", "--offline=yes", "--no-pager",
		fmt.Sprintf("--threshold=%d", int(maxExposure*10)), unit).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+) (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure in:\n%s", out)
	}
	exposure, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exposure %.1f %s", exposure, m[2])
	if exposure > maxExposure {
		t.Errorf("exposure %.1f %s, want %.1f or less:\n%s", exposure, m[2], maxExposure, out)
	}
}

// readmeBlock returns the first fenced block of the README whose info
// string is lang and whose text holds want, without its indentation.
func readmeBlock(t *testing.T, lang, want string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fence := regexp.MustCompile("(?ms)^([ \t]*)```" + regexp.QuoteMeta(lang) + "\n(.*?)^[ \t]*```$")
	for _, m := range fence.FindAllStringSubmatch(string(b), -1) {
		if !strings.Contains(m[2], want) {
			continue
		}
		var block strings.Builder
		for line := range strings.Lines(m[2]) {
			block.WriteString(strings.TrimPrefix(line, m[1]))
		}
		return block.String()
	}
	t.Fatalf("README.md has no %q block with %q", lang, want)
	return ""
}

// TestReadmeRsyslogForwarding checks the README's rsyslog snippet with
// rsyslogd -N1, which rejects unknown parameters, and that its queue keeps
// messages while floodgate is away.
func TestReadmeRsyslogForwarding(t *testing.T) {
	snippet := readmeBlock(t, "", `type="omfwd"`)
	for _, want := range []string{
		`target="127.0.0.1" port="5514" protocol="tcp"`,
		`TCP_Framing="octet-counted"`,
		`queue.type="LinkedList"`,
		`queue.filename=`,
		`queue.saveOnShutdown="on"`,
		`queue.maxDiskSpace=`,
		`action.resumeRetryCount="-1"`,
	} {
		if !strings.Contains(snippet, want) {
			t.Errorf("rsyslog snippet lacks %s:\n%s", want, snippet)
		}
	}
	rsyslogd := lookSbin(t, "rsyslogd", "snippet not validated")
	dir := t.TempDir()
	conf := filepath.Join(dir, "rsyslog.conf")
	// A disk-assisted queue needs a work directory, which Debian's
	// rsyslog.conf sets.
	full := fmt.Sprintf("global(workDirectory=%q)\n%s", dir, snippet)
	if err := os.WriteFile(conf, []byte(full), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(rsyslogd, "-N1", "-f", conf).CombinedOutput()
	if err != nil {
		t.Errorf("rsyslogd -N1: %v\n%s\n%s", err, out, full)
	}
}

// manifest is one file of Kubernetes objects and the container in it that
// runs floodgate.
type manifest struct {
	file      string
	kinds     []string // the documents' kinds, in order
	container string
}

var manifests = []manifest{
	{file: "kubernetes/daemonset.yaml", kinds: []string{"ConfigMap", "DaemonSet"}, container: "floodgate"},
	{file: "kubernetes/sidecar.yaml", kinds: []string{"ConfigMap", "Pod"}, container: "floodgate"},
}

// decode reads every document of file strictly: a field the Kubernetes
// API does not have is an error.
func decode(t *testing.T, file string) []any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var objs []any
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s document %d: %v", file, i+1, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1 Pod":
			obj = &corev1.Pod{}
		case "apps/v1 DaemonSet":
			obj = &appsv1.DaemonSet{}
		default:
			t.Fatalf("%s document %d: unexpected %q %q", file, i+1, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s document %d (%s): %v", file, i+1, tm.Kind, err)
		}
		objs = append(objs, obj)
	}
	return objs
}

// podParts returns the pod spec in objs and the config maps by name.
func podParts(t *testing.T, objs []any) (*corev1.PodSpec, map[string]*corev1.ConfigMap, []string) {
	t.Helper()
	var spec *corev1.PodSpec
	maps := map[string]*corev1.ConfigMap{}
	var kinds []string
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.ConfigMap:
			maps[o.Name] = o
			kinds = append(kinds, "ConfigMap")
		case *corev1.Pod:
			spec = &o.Spec
			kinds = append(kinds, "Pod")
		case *appsv1.DaemonSet:
			spec = &o.Spec.Template.Spec
			kinds = append(kinds, "DaemonSet")
			sel, err := metav1.LabelSelectorAsSelector(o.Spec.Selector)
			if err != nil {
				t.Fatalf("daemonset selector: %v", err)
			}
			if !sel.Matches(labels.Set(o.Spec.Template.Labels)) {
				t.Errorf("daemonset selector %s does not match its pod labels %v", sel, o.Spec.Template.Labels)
			}
		}
	}
	if spec == nil {
		t.Fatal("no pod spec")
	}
	return spec, maps, kinds
}

// findContainer finds name among the containers and init containers
// (a native sidecar is an init container).
func findContainer(spec *corev1.PodSpec, name string) *corev1.Container {
	for _, cs := range [][]corev1.Container{spec.Containers, spec.InitContainers} {
		for i := range cs {
			if cs[i].Name == name {
				return &cs[i]
			}
		}
	}
	return nil
}

// configOf returns the path floodgate's args name with -config, and the
// floodgate.toml mounted there from a config map.
func configOf(t *testing.T, spec *corev1.PodSpec, c *corev1.Container, maps map[string]*corev1.ConfigMap) (string, string) {
	t.Helper()
	i := slices.Index(c.Args, "-config")
	if i < 0 || i+1 >= len(c.Args) || c.Args[0] != "run" {
		t.Fatalf("container %s args %q: want run -config FILE", c.Name, c.Args)
	}
	path := c.Args[i+1]
	for _, m := range c.VolumeMounts {
		if m.MountPath != path && m.MountPath != filepath.Dir(path) {
			continue
		}
		key := m.SubPath
		if key == "" {
			key = filepath.Base(path)
		}
		for _, v := range spec.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			cm, ok := maps[v.ConfigMap.Name]
			if !ok {
				t.Fatalf("volume %s names config map %q, which the file does not define", v.Name, v.ConfigMap.Name)
			}
			toml, ok := cm.Data[key]
			if !ok {
				t.Fatalf("config map %s has no key %q", cm.Name, key)
			}
			return path, toml
		}
	}
	t.Fatalf("container %s: nothing from a config map is mounted at %s", c.Name, path)
	return "", ""
}

// mountFor returns the volume mount that holds path, the deepest one.
func mountFor(c *corev1.Container, path string) (corev1.VolumeMount, bool) {
	var best corev1.VolumeMount
	found := false
	for _, m := range c.VolumeMounts {
		if m.SubPath != "" {
			continue // a single file, not a directory
		}
		if path == m.MountPath || strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			if !found || len(m.MountPath) > len(best.MountPath) {
				best, found = m, true
			}
		}
	}
	return best, found
}

// baseDir is the part of a file output's path before its first
// placeholder, as the file output takes it.
func baseDir(path string) string {
	if i := strings.IndexByte(path, '{'); i >= 0 {
		path = path[:i]
	}
	return filepath.Dir(path + "x")
}

func TestManifests(t *testing.T) {
	for _, mf := range manifests {
		t.Run(filepath.Base(mf.file), func(t *testing.T) {
			spec, maps, kinds := podParts(t, decode(t, mf.file))
			if !slices.Equal(kinds, mf.kinds) {
				t.Errorf("kinds %v, want %v", kinds, mf.kinds)
			}
			c := findContainer(spec, mf.container)
			if c == nil {
				t.Fatalf("no container %q", mf.container)
			}
			for _, cc := range slices.Concat(spec.InitContainers, spec.Containers) {
				for _, m := range cc.VolumeMounts {
					if !slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name }) {
						t.Errorf("container %s mounts volume %q, which the pod does not have", cc.Name, m.Name)
					}
				}
			}
			path, toml := configOf(t, spec, c, maps)
			cfg, err := config.Parse(strings.NewReader(toml))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("%s: %v", path, err)
			}

			// Every path floodgate writes lies on a writable mount, every
			// file it reads on a mount: the root filesystem is read-only.
			writable := func(what, p string) {
				t.Helper()
				m, ok := mountFor(c, p)
				if !ok {
					t.Errorf("%s %s is on no volume mount", what, p)
				} else if m.ReadOnly {
					t.Errorf("%s %s is on read-only mount %s", what, p, m.MountPath)
				}
			}
			readable := func(what, p string) {
				t.Helper()
				if _, ok := mountFor(c, p); !ok {
					t.Errorf("%s %s is on no volume mount", what, p)
				}
			}
			var ports []corev1.ContainerPort
			for i, in := range cfg.Inputs {
				switch in.Type {
				case "unix", "unixgram":
					writable(fmt.Sprintf("input[%d] socket", i), in.Address)
				case "udp", "tcp":
					ports = append(ports, port(t, in.Address, in.Type))
				case "tls":
					ports = append(ports, port(t, in.Address, "tcp"))
					for _, f := range []string{in.Cert, in.Key, in.ClientCA} {
						if f != "" {
							readable(fmt.Sprintf("input[%d] TLS file", i), f)
						}
					}
				}
			}
			for i, out := range cfg.Outputs {
				at := fmt.Sprintf("output[%d]", i)
				if out.Type == "file" {
					writable(at+" directory", baseDir(out.Path))
				}
				if out.QueueDir != "" {
					writable(at+" queue_dir", out.QueueDir)
				}
				for _, f := range []string{out.CA, out.Cert, out.Key} {
					if f != "" {
						readable(at+" TLS file", f)
					}
				}
			}
			if cfg.Metrics.Address != "" {
				ports = append(ports, port(t, cfg.Metrics.Address, "tcp"))
			}
			for _, p := range ports {
				if !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool {
					return cp.ContainerPort == p.ContainerPort && protocolOf(cp) == p.Protocol
				}) {
					t.Errorf("floodgate listens on %d/%s, which the container does not declare", p.ContainerPort, p.Protocol)
				}
			}
			for _, cp := range c.Ports {
				if !slices.ContainsFunc(ports, func(p corev1.ContainerPort) bool {
					return cp.ContainerPort == p.ContainerPort && protocolOf(cp) == p.Protocol
				}) {
					t.Errorf("container declares %d/%s, on which floodgate does not listen", cp.ContainerPort, protocolOf(cp))
				}
			}

			// Probes ask the metrics endpoint, which answers once every
			// input is bound.
			for _, p := range []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
				if p == nil || p.HTTPGet == nil {
					continue
				}
				if p.HTTPGet.Path != "/healthz" && p.HTTPGet.Path != "/metrics" {
					t.Errorf("probe asks %s, which floodgate does not serve", p.HTTPGet.Path)
				}
				if cfg.Metrics.Address == "" || p.HTTPGet.Port.String() != "metrics" {
					t.Errorf("probe asks port %s, want the metrics port", p.HTTPGet.Port.String())
				}
			}

			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Error("floodgate's container is not read-only, without privilege escalation and with every capability dropped")
			}
		})
	}
}

// port is what floodgate's listener on address looks like as a container
// port.
func port(t *testing.T, address, network string) corev1.ContainerPort {
	t.Helper()
	_, p, err := net.SplitHostPort(address)
	if err != nil {
		t.Fatalf("address %q: %v", address, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("address %q: %v", address, err)
	}
	return corev1.ContainerPort{ContainerPort: int32(n), Protocol: corev1.Protocol(strings.ToUpper(network))}
}

func protocolOf(cp corev1.ContainerPort) corev1.Protocol {
	if cp.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return cp.Protocol
}

// TestLogrotate runs logrotate with the example on a copy of the log
// directory: files at every depth the globs name are renamed with a date
// (floodgate then opens new ones), and postrotate runs once.
func TestLogrotate(t *testing.T) {
	logrotate := lookSbin(t, "logrotate", "example not run")
	const logDir = "/var/log/floodgate"
	const reload = "systemctl reload floodgate.service"
	b, err := os.ReadFile("logrotate/floodgate")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{logDir, reload} {
		if !bytes.Contains(b, []byte(s)) {
			t.Fatalf("logrotate/floodgate does not name %q", s)
		}
	}
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	reloaded := filepath.Join(dir, "reloaded")
	b = bytes.ReplaceAll(b, []byte(logDir), []byte(logs))
	b = bytes.ReplaceAll(b, []byte(reload), []byte(`sh -c "echo >> '`+reloaded+`'"`))
	conf := filepath.Join(dir, "floodgate.conf")
	if err := os.WriteFile(conf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	files := []string{"floodgate.log", "web1/nginx.log", "web1/kern/kernel.log"}
	for _, f := range files {
		p := filepath.Join(logs, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("Sep  9 10:02:37 web1 "+f+": hello\n"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	// A file floodgate rotated itself is left alone.
	own := filepath.Join(logs, "web1", "nginx.log.1")
	if err := os.WriteFile(own, []byte("older\n"), 0o640); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(logrotate, "-f", "-v", "-s", filepath.Join(dir, "state"), conf).CombinedOutput()
	if err != nil {
		t.Fatalf("logrotate: %v\n%s", err, out)
	}
	for _, f := range files {
		p := filepath.Join(logs, f)
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s is still there (nocreate: floodgate makes the new file)", f)
		}
		rotated, _ := filepath.Glob(p + "-[0-9]*")
		if len(rotated) != 1 {
			t.Errorf("%s rotated to %q, want one dated file\n%s", f, rotated, out)
			continue
		}
		if got, _ := os.ReadFile(rotated[0]); !bytes.Contains(got, []byte("hello")) {
			t.Errorf("%s holds %q, want the old file's lines", rotated[0], got)
		}
	}
	if _, err := os.Stat(own); err != nil {
		t.Errorf("floodgate's own rotated file: %v", err)
	}
	if got, err := os.ReadFile(reloaded); err != nil || bytes.Count(got, []byte("\n")) != 1 {
		t.Errorf("postrotate ran %d times (%v), want once", bytes.Count(got, []byte("\n")), err)
	}
}

// lookSbin finds a command Debian installs in /usr/sbin, which a user's
// PATH may lack, and skips the test saying what is not checked without it.
func lookSbin(t *testing.T, name, unchecked string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join("/usr/sbin", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not found: %s", name, unchecked)
	}
	return p
}
