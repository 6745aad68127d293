package memfile

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// ScratchPrefix starts the name of every file the portable set makes and
// unlinks at once (anonymous memory, bells). It is followed by the
// creator's process id and a dash: a name still there is a leftover of a
// creator killed between the open and the unlink.
const ScratchPrefix = "mp-tmp-"

// ScratchDir is where such files are made: /dev/shm where it exists, so
// that their pages are memory, else os.TempDir().
var ScratchDir = sync.OnceValue(func() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() && unix.Access("/dev/shm", unix.W_OK) == nil {
		return "/dev/shm"
	}
	return os.TempDir()
})

// ScratchPath returns a new path in ScratchDir for a file that is unlinked
// as soon as it is open; label says what it is, for whoever finds a
// leftover. The first call of a process removes the leftovers of creators
// that no longer run.
func ScratchPath(label string) string {
	sweepOnce()
	b := make([]byte, 8)
	rand.Read(b)
	name := ScratchPrefix + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b) + "-" + label
	return filepath.Join(ScratchDir(), name)
}

// ScratchCreator returns the process id in a name made by ScratchPath, or
// 0 if name is not one.
func ScratchCreator(name string) int {
	rest, ok := strings.CutPrefix(name, ScratchPrefix)
	if !ok {
		return 0
	}
	pid, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// sweepOnce removes, once per process, the scratch names whose creator no
// longer runs. A name of a live creator in another PID namespace may go
// too: that is harmless, since its creator holds the file open and only
// wanted the name gone (it ignores ENOENT from its own unlink).
var sweepOnce = sync.OnceFunc(func() {
	dir := ScratchDir()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		pid := ScratchCreator(e.Name())
		if pid == 0 || pid == os.Getpid() {
			continue
		}
		if unix.Kill(pid, 0) == unix.ESRCH {
			unix.Unlink(filepath.Join(dir, e.Name()))
		}
	}
})
