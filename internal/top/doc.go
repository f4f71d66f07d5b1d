// Package top is `floodgate top`: a live view of a running relay's
// sources and patterns, read from its /api/v1/ endpoints once a second,
// in the manner of htop and vector top.
//
// In a terminal it is a full-screen view (bubbletea, styled with
// lipgloss): restart loops and disk levels at the top, then the sources or
// the patterns sorted by bytes per second, with the share folded, what was
// suppressed, and a sparkline of the last minute. tab switches between
// sources and patterns, s changes the order, q quits. Anywhere else
// (a pipe, a file) it prints the same tables once, as plain text.
package top
