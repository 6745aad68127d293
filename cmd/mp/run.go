package main

import (
	"context"
	"fmt"
	"io"

	"github.com/mpgo/mp/examples/tour"
)

const usage = `usage: mp <command> [arguments]

commands:
  tour [-list | -python] [topic|seed|name ...]
                                       run the Go ports of the seed programs
                                       (mp tour -help says how to read it)
  help                                 print this help
`

// run is the whole CLI: it returns the process's exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "tour":
		return tour.Run(ctx, "mp tour", args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "mp: unknown command %q\n%s", args[0], usage)
	return 2
}
