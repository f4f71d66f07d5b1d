// Package deploy holds no code: it is where floodgate's deployment files
// live, and its tests keep them true of the binary.
//
//   - floodgate.service: the hardened systemd unit, Type=notify. Its test
//     runs systemd-analyze verify and systemd-analyze security --offline on
//     it and wants an exposure of 3.0 or less (skipped, with a message,
//     where systemd-analyze is missing).
//   - floodgate.socket: journald's syslog socket, /run/systemd/journal/syslog,
//     bound by systemd and passed to floodgate (socket activation) in the
//     place of rsyslog's syslog.socket, for an input with fd_name =
//     "floodgate-journal". Its test verifies it, and the README's second
//     socket unit for port 514, with systemd-analyze, and checks that the
//     input the README and its comment show is a valid config taking its
//     FileDescriptorName=.
//   - kubernetes/daemonset.yaml and kubernetes/sidecar.yaml: a relay on
//     every node, and a sidecar fed over a unix socket. Their test decodes
//     every document strictly into the Kubernetes API types, parses and
//     validates the floodgate.toml each one carries with package config,
//     and checks that the config's paths lie under the container's volume
//     mounts and its ports are the container's ports.
//   - logrotate/floodgate: daily rotation of the file outputs; its test runs
//     logrotate on a copy (skipped where logrotate is missing).
//   - floodgate.toml: the Docker image's config.
//
// The tests also check what the README shows: its rsyslog forwarding
// snippet passes rsyslogd -N1 and, run in a real rsyslogd in front of a
// real floodgate, keeps every message while floodgate is down and rsyslog
// restarts; its drop-in for taking journald's socket keeps the unit valid
// and rated OK.
//   - prometheus/: alerting rules and a Grafana dashboard, tested there.
package deploy
