package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"

	"github.com/floodgate/floodgate/internal/top"
)

// cmdTop shows a running relay's sources and patterns: live in a
// terminal, once as plain tables otherwise.
func cmdTop(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("top", stderr)
	addr := fs.String("addr", "127.0.0.1:9514", "the relay's metrics `address` (host:port or URL)")
	token := fs.String("token", "", "the bearer `token` of [metrics] token (default $FLOODGATE_TOKEN)")
	tokenFile := fs.String("token-file", "", "read the bearer token from this `file`")
	rows := fs.Int("n", 0, "rows to show (default: what fits, 20 when printing once)")
	once := fs.Bool("once", false, "print the tables once even in a terminal")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("top takes no arguments, got %q", fs.Args())}
	}
	o := top.Options{Addr: *addr, Token: *token, Rows: *rows}
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fmt.Errorf("read token: %w", err)
		}
		o.Token = strings.TrimSpace(string(b))
	}
	if o.Token == "" {
		o.Token = os.Getenv("FLOODGATE_TOKEN")
	}
	if !*once && isTerminal(stdout) && isTerminal(stdin) {
		return top.Run(ctx, o, stdin, stdout)
	}
	return top.Once(ctx, o, stdout)
}

func isTerminal(f any) bool {
	fd, ok := f.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(fd.Fd())
}
