// Command mp is mp's command-line tool. `mp tour` runs the Go ports of the
// seed programs, grouped by topic, and prints what each one did.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mpgo/mp"
	_ "github.com/mpgo/mp/examples/all"
)

func main() {
	mp.Main()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
