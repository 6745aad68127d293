//go:build linux && !mpportable

package shmhome

// Dir returns the directory of named segments.
func Dir() string { return "/dev/shm" }

// Make returns Dir, which exists.
func Make() (string, error) { return Dir(), nil }

// Check returns Dir: /dev/shm is the system's, and always there.
func Check() (string, error) { return Dir(), nil }
