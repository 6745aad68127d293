package chaos

import (
	"bytes"
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// environ returns the environment process pid started with, as NUL-ended
// "NAME=value" strings. macOS gives it in sysctl kern.procargs2 (see
// sysctl_procargs in xnu's kern_sysctl.c): an int argc, the executable's
// path and NUL padding, argc NUL-ended arguments, then the environment.
func environ(pid int) ([]byte, error) {
	raw, err := unix.SysctlRaw("kern.procargs2", pid)
	if err != nil {
		return nil, err
	}
	return procargsEnviron(raw)
}

func procargsEnviron(raw []byte) ([]byte, error) {
	if len(raw) < 4 {
		return nil, errors.New("short procargs2")
	}
	argc := int(int32(binary.LittleEndian.Uint32(raw)))
	rest := raw[4:]
	i := bytes.IndexByte(rest, 0) // the executable's path
	if i < 0 {
		return nil, errors.New("malformed procargs2")
	}
	rest = bytes.TrimLeft(rest[i:], "\x00")
	for range argc {
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			return nil, errors.New("malformed procargs2")
		}
		rest = rest[i+1:]
	}
	return rest, nil
}
