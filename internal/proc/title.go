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
// takes from the path executed) with the program's own command line. On
// Linux:
//
//   - its command line (ps -f, ps aux, top's full view) is one argument,
//     "<program>: mp <name>", for instance "server: mp PoolWorker-3"; a
//     warm spare, started before its name is known, keeps "<program>: mp
//     warm process" (a running process can change its command line only
//     by writing over its own arguments in memory, which Go's os.Args
//     points into);
//   - its comm (ps, top, pgrep) is its process name, cut to the kernel's
//     15 bytes: "PoolWorker-3", "Process-1:2"; a warm spare has the
//     program's name until it takes work.
//
// Control characters of a name show as '?' in both, as ps shows them (a
// NUL would make the exec fail).
//
// On macOS and FreeBSD the command line is the same title (ps shows
// argv), and the comm is the program's name, which the kernel takes from
// the binary run (os.Executable's path, not "exe"); a process cannot
// change its comm there (see title_other.go).
//
// The child gets back its real os.Args[0] (passed in envArgv0) in Main,
// before its function runs: the function sees the program's argv[0], but
// package init functions, which run before Main, see the title (a flag
// set made in an init names itself after it, for instance).

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

// isWarmSpare reports whether this child was started as a warm spare, by
// its title (before restoreArgv0).
func isWarmSpare() bool { return strings.HasSuffix(argv0(), ": mp "+warmTitle) }

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
