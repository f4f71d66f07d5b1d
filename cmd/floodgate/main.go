// Command floodgate is a deduplicating, rate-limiting syslog relay. See
// the README for what it does and docs/output-format.md for what it writes.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(exitCode(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr), os.Stderr))
}
