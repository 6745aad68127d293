//go:build !linux && !darwin && !(freebsd && (amd64 || arm64))

package procinfo

// Describe always fails here.
func Describe(pid int) (Description, error) { return Description{}, errUnsupported }
