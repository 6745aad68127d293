package mptest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mpgo/mp/internal/memfile"
	"github.com/mpgo/mp/internal/shmhome"
	"github.com/mpgo/mp/shm"
	"golang.org/x/sys/unix"
)

// shmEntries returns the paths of the named shared memory there is now:
// the files in the directory of package shm's segments (/dev/shm on
// Linux), and the names left in memfile.ScratchDir by a creator of
// anonymous memory or a bell killed between creating the file and
// unlinking it (the portable set's files; see package memfile).
func shmEntries() []string {
	var out []string
	dir := shmhome.Dir()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		out = append(out, filepath.Join(dir, e.Name()))
	}
	if scratch := memfile.ScratchDir(); scratch != dir {
		ents, _ = os.ReadDir(scratch)
		for _, e := range ents {
			if memfile.ScratchCreator(e.Name()) != 0 {
				out = append(out, filepath.Join(scratch, e.Name()))
			}
		}
	}
	return out
}

// ownShm returns the new entries among paths (from shmEntries) that belong
// to this test. The directories are shared by every program on the
// machine, and go test runs the test binaries of several packages at once,
// so an entry counts only if this process created it with mp's shm package
// and has not removed it, or if it is held (mapped or open) by this
// process or its children and by no other process — a segment the test,
// or a child, created some other way and did not close — or if it is a
// scratch name of a creator in this tree or of one that no longer runs
// (killed before it unlinked the name; it may, rarely, have been another
// program's). Without /proc (macOS, FreeBSD), holders are unknown: only
// the first and last kinds count.
func ownShm(paths []string) []string {
	var out, others []string
	mine := shm.Created()
	tree := processTree(os.Getpid())
	for _, p := range paths {
		name := filepath.Base(p)
		switch pid := memfile.ScratchCreator(name); {
		case filepath.Dir(p) == shmhome.Dir() && slices.Contains(mine, name):
			out = append(out, p)
		case pid != 0 && (tree[pid] || unix.Kill(pid, 0) == unix.ESRCH):
			out = append(out, p)
		default:
			others = append(others, p)
		}
	}
	if len(others) == 0 {
		return out
	}
	inTree, outside := holders(others, tree)
	for _, p := range others {
		if inTree[p] && !outside[p] {
			out = append(out, p)
		}
	}
	return out
}

// holders reports which of paths are mapped or held open by a process in
// tree, and which by a process outside it.
func holders(paths []string, tree map[int]bool) (inTree, outside map[string]bool) {
	inTree, outside = map[string]bool{}, map[string]bool{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		for _, path := range heldPaths(d, paths) {
			if tree[pid] {
				inTree[path] = true
			} else {
				outside[path] = true
			}
		}
	}
	return inTree, outside
}

// heldPaths lists those of paths that the process whose /proc directory is
// dir maps or has open.
func heldPaths(dir string, paths []string) []string {
	var out []string
	if data, err := os.ReadFile(dir + "/maps"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSuffix(line, " (deleted)")
			for _, p := range paths {
				if strings.HasSuffix(line, " "+p) {
					out = append(out, p)
				}
			}
		}
	}
	ents, _ := os.ReadDir(dir + "/fd")
	for _, e := range ents {
		if target, err := os.Readlink(dir + "/fd/" + e.Name()); err == nil && slices.Contains(paths, target) {
			out = append(out, target)
		}
	}
	return out
}

// processTree returns root and its descendants, from /proc (root alone
// where there is none).
func processTree(root int) map[int]bool {
	parent := map[int]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		data, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		end := bytes.LastIndexByte(data, ')')
		f := strings.Fields(string(data[end+1:]))
		if end < 0 || len(f) < 2 {
			continue
		}
		pid, err1 := strconv.Atoi(filepath.Base(filepath.Dir(st)))
		ppid, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil {
			parent[pid] = ppid
		}
	}
	tree := map[int]bool{root: true}
	for grew := true; grew; {
		grew = false
		for pid, ppid := range parent {
			if tree[ppid] && !tree[pid] {
				tree[pid], grew = true, true
			}
		}
	}
	return tree
}
