// Command floodgate-bench is "floodgate bench" on its own, so that the
// harness (and peers.sh) can be built and run without the relay.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/floodgate/floodgate/bench"
)

func main() {
	err := bench.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintf(os.Stderr, "floodgate-bench: %v\n", err)
		os.Exit(1)
	}
}
