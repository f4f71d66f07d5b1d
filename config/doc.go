// Package config reads floodgate's TOML configuration.
//
// Default returns the built-in configuration (what `floodgate run` uses
// without -config); Parse reads a file over those defaults and rejects
// unknown keys; Validate checks values. Both report problems as
// *Error values that carry the line of the offending key, so that
// `floodgate check` can print `FILE:LINE: what is wrong`.
//
// Sizes, rates and durations have their own types: Size accepts "64KiB",
// "1MiB" or a plain integer of bytes, Duration accepts "30s" or "5m" and
// rejects a bare integer (BurntSushi/toml would otherwise read 30 as 30
// nanoseconds). Space is a size or a percentage of a filesystem.
//
// Validate also tells addresses that would collide, by their text: two
// inputs of one protocol on one port and address (or a wildcard; tls is
// tcp), one socket path twice, metrics on a TCP input's port, two inputs
// taking one socket systemd passes (fd_name). Beyond that the package
// opens no socket and writes no file: CheckSockets, which `floodgate check`
// runs, only looks at whether each unix socket's directory exists and is
// writable, and CheckCertificates, which `check` and `run` run, whether
// each tls input's cert and key load as a key pair and its client_ca
// holds certificates.
package config
