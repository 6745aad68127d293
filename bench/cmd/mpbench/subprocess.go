package main

import (
	"context"
	"fmt"

	"github.com/mpgo/mp/subprocess"
)

// The subprocess group: the cost of subprocess.Run for the smallest
// commands, beside CPython's subprocess.run in bench/cpython.
func init() {
	addGroup("subprocess", func(ctx context.Context, b *bench) error {
		d, err := medianTime(b.n(300), func() error {
			_, err := subprocess.Run(ctx, []string{"true"}, nil)
			return err
		})
		if err != nil {
			return err
		}
		b.emit("subprocess_run_true", ms(d), "ms")

		capture := &subprocess.Options{Stdout: subprocess.Pipe}
		d, err = medianTime(b.n(300), func() error {
			cp, err := subprocess.Run(ctx, []string{"echo", "hello"}, capture)
			if err == nil && string(cp.Stdout) != "hello\n" {
				err = fmt.Errorf("echo hello printed %q", cp.Stdout)
			}
			return err
		})
		if err != nil {
			return err
		}
		b.emit("subprocess_run_capture_echo", ms(d), "ms")
		return nil
	})
}
