//go:build !linux

package proc

import "golang.org/x/sys/unix"

// dupTo makes fd newfd a copy of oldfd, without close-on-exec: dup2,
// since macOS has no dup3.
func dupTo(oldfd, newfd int) error { return unix.Dup2(oldfd, newfd) }
