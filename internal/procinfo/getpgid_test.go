package procinfo_test

import "syscall"

func getpgid() (int, error) { return syscall.Getpgid(0) }
