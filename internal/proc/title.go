package proc

import (
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A child is recognisable in ps and top, where a fresh run of
// /proc/self/exe would otherwise show as "exe" (its comm, which the kernel
// takes from the path executed) with the program's own command line:
//
//   - its command line (ps -f, ps aux, top's full view) is one argument,
//     "<program>: mp <name>", for instance "server: mp PoolWorker-3"; a
//     warm spare, started before its name is known, keeps "<program>: mp
//     warm process" (a running process can change its command line only
//     by writing over its own arguments in memory, which Go's os.Args
//     points into);
//   - its comm (ps, top, pgrep) is the program's name while it waits for
//     work, then its process name, cut to the kernel's 15 bytes:
//     "PoolWorker-3", "Process-1:2".
//
// Control characters of a name show as '?' in both, as ps shows them (a
// NUL would make the exec fail).
//
// The child gets back its real os.Args[0] (passed in envArgv0) before its
// function runs, so that nothing in it sees the title.

// envArgv0 carries a child's real os.Args[0], which its title replaces.
const envArgv0 = "_MP_ARGV0"

// warmTitle names a warm spare, whose process name is not known when it
// is started.
const warmTitle = "warm process"

// commLen is the most bytes of a comm, without its final NUL.
const commLen = 15

// title returns the argv[0] of a child named name.
func title(name string) string {
	return printable(filepath.Base(argv0()) + ": mp " + name)
}

// printable returns s with its control characters replaced by '?'.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// argv0 returns this process's os.Args[0].
func argv0() string {
	if len(os.Args) == 0 {
		return "mp"
	}
	return os.Args[0]
}

// restoreArgv0 gives a child the os.Args[0] its parent had.
func restoreArgv0() {
	if orig, ok := os.LookupEnv(envArgv0); ok {
		os.Unsetenv(envArgv0)
		if len(os.Args) > 0 {
			os.Args[0] = orig
		}
	}
}

// setComm sets the comm of this process to name (cut to 15 bytes): of its
// main thread, and with all set, of every thread it has (threads it makes
// later inherit the comm of the thread that makes them). prctl(PR_SET_NAME)
// would name only the calling thread, which in Go is any thread. Failures
// are ignored: a name is a convenience.
func setComm(name string, all bool) {
	if name == "" {
		return
	}
	name = cutComm(printable(name))
	if !all {
		os.WriteFile("/proc/self/comm", []byte(name), 0)
		return
	}
	tids, _ := os.ReadDir("/proc/self/task")
	for _, tid := range tids {
		os.WriteFile("/proc/self/task/"+tid.Name()+"/comm", []byte(name), 0)
	}
}

// cutComm cuts name to what a comm holds, on a rune boundary.
func cutComm(name string) string {
	if len(name) <= commLen {
		return name
	}
	cut := commLen
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut]
}
