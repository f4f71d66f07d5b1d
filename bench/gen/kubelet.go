package gen

import (
	"strconv"
	"time"

	"github.com/floodgate/floodgate"
)

// NewKubelet returns n messages of kubelets on three nodes whose pods are
// in CrashLoopBackOff, 40 pods a node across a dozen namespaces, in
// kubelet's structured klog wordings: every sync (about every 10 s per
// pod) `pod_workers.go:1301] "Error syncing pod, skipping"
// err="failed to \"StartContainer\" for \"app\" with CrashLoopBackOff:
// \"back-off 5m0s restarting failed container=app
// pod=web-7d9f8c6b5-x2k4p_default(uid)\"" pod="default/web-..."
// podUID="..."`, and whenever a back-off runs out (10 s, doubling up to
// 5m0s) the restart: PLEG ContainerStarted, a failed liveness probe,
// ContainerDied, RemoveContainer. One pod in eight is in ImagePullBackOff
// instead, and some wait for volumes that never mount ("unmounted
// volumes=[data] ... timed out waiting for the condition", every two
// minutes). Pod, namespace and container names and the back-off are
// parameters; CrashLoopBackOff/ImagePullBackOff, Liveness/Readiness and
// the PLEG event type are meaningful.
func NewKubelet(seed int64, n int) Generator {
	return build("kubelet", kindConfig{seed: seed, n: n, hosts: hostNames("node", 3)}, newKubelet)
}

var (
	kubeCrashLoop = lsev("kubelet", floodgate.Err, `E{klog}    {$f} pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"{$2}\" with CrashLoopBackOff: \"back-off {$4} restarting failed container={$2} pod={$0}_{$1}({$3})\"" pod="{$1}/{$0}" podUID="{$3}"`)
	kubeImagePull = lsev("kubelet", floodgate.Err, `E{klog}    {$f} pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"{$2}\" with ImagePullBackOff: \"Back-off pulling image \\\"{$6}\\\"\"" pod="{$1}/{$0}" podUID="{$3}"`)
	kubeStarted   = ln("kubelet", `I{klog}    {$f} kubelet.go:2544] "SyncLoop (PLEG): event for pod" pod="{$1}/{$0}" event={"ID":"{$3}","Type":"ContainerStarted","Data":"{$5}"}`)
	kubeDied      = ln("kubelet", `I{klog}    {$f} kubelet.go:2544] "SyncLoop (PLEG): event for pod" pod="{$1}/{$0}" event={"ID":"{$3}","Type":"ContainerDied","Data":"{$5}"}`)
	kubeRemove    = ln("kubelet", `I{klog}    {$f} scope.go:117] "RemoveContainer" containerID="{$5}"`)
	kubeLiveness  = ln("kubelet", `I{klog}    {$f} prober.go:107] "Probe failed" probeType="Liveness" pod="{$1}/{$0}" podUID="{$3}" containerName="{$2}" probeResult="failure" output="Get \"http://{$7}:8080/healthz\": dial tcp {$7}:8080: connect: connection refused"`)
	kubeReadiness = ln("kubelet", `I{klog}    {$f} prober.go:107] "Probe failed" probeType="Readiness" pod="{$1}/{$0}" podUID="{$3}" containerName="{$2}" probeResult="failure" output="Get \"http://{$7}:8080/ready\": dial tcp {$7}:8080: connect: connection refused"`)
	kubeVolumes   = lsev("kubelet", floodgate.Err, `E{klog}    {$f} pod_workers.go:1301] "Error syncing pod, skipping" err="unmounted volumes=[{$8}], unattached volumes=[{$8} kube-api-access-{$9}]: timed out waiting for the condition" pod="{$1}/{$0}" podUID="{$3}"`)
	kubeNotFound  = lsev("kubelet", floodgate.Err, `E{klog}    {$f} remote_runtime.go:432] "ContainerStatus from runtime service failed" err="rpc error: code = NotFound desc = an error occurred when try to find container \"{$5}\": not found" containerID="{$5}"`)
)

func init() {
	kubeCrashLoop.near, kubeImagePull.near = "kubelet-backoff", "kubelet-backoff"
	kubeStarted.near, kubeDied.near = "pleg-event", "pleg-event"
	kubeLiveness.near, kubeReadiness.near = "probe", "probe"
}

var kubeNamespaces = []string{"default", "prod", "staging", "payments", "checkout", "search", "monitoring", "logging", "ingress-nginx", "kube-system", "data", "batch"}

var kubeContainers = []string{"app", "web", "worker", "api", "server", "consumer", "sidecar", "migrate", "exporter", "nginx", "redis", "envoy"}

// backoffs are kubelet's crash-loop back-offs: 10 s doubling to 5 min.
var backoffs = []struct {
	d    time.Duration
	text string
}{{10 * time.Second, "10s"}, {20 * time.Second, "20s"}, {40 * time.Second, "40s"}, {80 * time.Second, "1m20s"}, {160 * time.Second, "2m40s"}, {5 * time.Minute, "5m0s"}}

const podChars = "bcdfghjklmnpqrstvwxz2456789"

// replicaSet returns a Deployment's ReplicaSet name: the deployment and
// the hash of its pod template.
func replicaSet(g *flood, deploy string) string {
	b := []byte(deploy)
	b = append(b, '-')
	for range 9 + g.r.IntN(2) {
		b = append(b, podChars[g.r.IntN(len(podChars))])
	}
	return string(b)
}

// podName is a ReplicaSet's pod: its name and five random characters.
func podName(g *flood, rs string) string {
	b := []byte(rs)
	b = append(b, '-')
	for range 5 {
		b = append(b, podChars[g.r.IntN(len(podChars))])
	}
	return string(b)
}

type crashPod struct {
	name, ns, container, uid, image, ip string
	pull, volume                        bool
	bo                                  int // index in backoffs
	restartAt                           time.Time
}

func newKubelet(c kindConfig) *flood {
	g := newFlood(c.seed, c.n)
	// Deployments of one to four replicas a node, each in its namespace
	// with its container, all broken.
	type deployment struct{ name, rs, ns, container string }
	svcs := serviceNames()
	var deploys []deployment
	for _, i := range g.r.Perm(len(svcs))[:60] {
		d := svcs[i]
		deploys = append(deploys, deployment{d, replicaSet(g, d), kubeNamespaces[g.r.IntN(len(kubeNamespaces))], kubeContainers[g.r.IntN(len(kubeContainers))]})
	}
	for hi, h := range c.hosts {
		pid := strconv.Itoa(2103 + 211*hi)
		var d deployment
		for i := range 40 {
			if i == 0 || g.r.IntN(5) < 3 {
				d = deploys[g.r.IntN(len(deploys))]
			}
			p := &crashPod{
				name:      podName(g, d.rs),
				ns:        d.ns,
				container: d.container,
				uid:       string(appendUUID(nil, g.r)),
				image:     "registry.example.com/" + d.name + ":v1." + strconv.Itoa(g.r.IntN(30)) + "." + strconv.Itoa(g.r.IntN(10)),
				ip:        string(appendIPv4(nil, 10, 244, hi, 2+g.r.IntN(250))),
				pull:      g.r.IntN(8) == 0,
				volume:    g.r.IntN(12) == 0,
				bo:        g.r.IntN(len(backoffs)),
			}
			s := &source{host: h, app: "kubelet", pid: pid, fac: 3, sev: floodgate.Info, b: p}
			s.set(0, p.name)
			s.set(1, p.ns)
			s.set(2, p.container)
			s.set(3, p.uid)
			s.set(6, p.image)
			s.set(7, p.ip)
			s.set(15, pid)
			s.set(8, []string{"data", "config", "cache", "certs", "uploads"}[g.r.IntN(5)])
			s.slots[9] = append(s.slots[9][:0], podName(g, "")[1:]...)
			g.addSource(s, c.start, 10*time.Second)
			p.restartAt = s.at.Add(time.Duration(g.r.Int64N(int64(backoffs[p.bo].d))))
		}
	}
	return g
}

func (p *crashPod) event(g *flood, s *source) {
	r := s.r
	s.next = between(r, 9*time.Second, 13*time.Second)
	if p.pull {
		s.set(4, backoffs[p.bo].text)
		s.add(kubeImagePull, 0)
		return
	}
	if p.volume {
		s.next = 2*time.Minute + between(r, 0, 5*time.Second)
		s.add(kubeVolumes, 0)
		return
	}
	if s.at.Before(p.restartAt) {
		s.set(4, backoffs[p.bo].text)
		s.add(kubeCrashLoop, 0)
		return
	}
	// The back-off ran out: the container starts, fails its probes and
	// dies, and the back-off doubles.
	s.slots[5] = appendHexFixed(s.slots[5][:0], r.Uint64(), 16)
	s.slots[5] = appendHexFixed(s.slots[5], r.Uint64(), 16)
	s.slots[5] = appendHexFixed(s.slots[5], r.Uint64(), 16)
	s.slots[5] = appendHexFixed(s.slots[5], r.Uint64(), 16)
	s.add(kubeStarted, 0)
	s.add(kubeReadiness, between(r, 2*time.Second, 5*time.Second))
	s.add(kubeLiveness, between(r, time.Second, 10*time.Second))
	s.add(kubeDied, between(r, 500*time.Millisecond, 3*time.Second))
	s.add(kubeRemove, time.Millisecond)
	if r.IntN(4) == 0 {
		s.add(kubeNotFound, time.Millisecond)
	}
	p.bo = min(p.bo+1, len(backoffs)-1)
	p.restartAt = s.at.Add(backoffs[p.bo].d + 15*time.Second)
}
