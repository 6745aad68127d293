package proc

import "golang.org/x/sys/unix"

// dupTo makes fd newfd a copy of oldfd, without close-on-exec. Linux on
// arm64 has no dup2, only dup3.
func dupTo(oldfd, newfd int) error { return unix.Dup3(oldfd, newfd, 0) }
