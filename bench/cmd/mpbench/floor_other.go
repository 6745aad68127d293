//go:build !linux

package main

import (
	"context"
	"fmt"
	"os"
)

func init() { addGroup("floor", benchFloor) }

// benchFloor measures nothing on this system: the floor is a bare
// SOCK_SEQPACKET pair (floor.go), which macOS lacks, and figures of
// another kind of socket would not sit beside Linux's.
func benchFloor(context.Context, *bench) error {
	fmt.Fprintln(os.Stderr, "mpbench: floor measures nothing on this system (it is a SOCK_SEQPACKET figure, Linux only)")
	return nil
}
