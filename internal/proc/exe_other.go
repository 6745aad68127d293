//go:build !linux

package proc

import (
	"fmt"
	"os"
	"sync"
)

// selfExe returns the path that runs this binary again: os.Executable,
// which on macOS is the path the kernel gave the process at its start
// (_NSGetExecutablePath, read by Go's runtime), and on FreeBSD the path
// of the running binary's vnode (sysctl kern.proc.pathname). It is read
// once, at the first spawn. Unlike Linux's /proc/self/exe, it is a path,
// not the file: if the binary was replaced since (an upgrade in place),
// children run the new one, which may speak another protocol version and
// then fails its start with a clear error; if it was removed, spawning
// fails.
func selfExe() (string, error) {
	path, err := executable()
	if err != nil {
		return "", fmt.Errorf("mp: find this program's binary: %w", err)
	}
	return path, nil
}

var executable = sync.OnceValues(os.Executable)
