// Command floodgate-bench is "floodgate bench" on its own, so that the
// harness (and peers.sh) can be built and run without the relay.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/floodgate/floodgate/bench"
)

func main() {
	// A signal cancels the run, so that it stops the target it started
	// (in its own process group, out of the terminal's reach) on its way
	// out instead of leaving a daemon behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := bench.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintf(os.Stderr, "floodgate-bench: %v\n", err)
		stop()
		os.Exit(1)
	}
}
