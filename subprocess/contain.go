package subprocess

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/procinfo"
)

// Contain says how far a stop reaches: which of the processes a child
// started are stopped with it when a timeout or its context stops it. Kill,
// KillGroup and the other signal methods signal only what they name. On
// systems other than Linux, ContainSubreaper acts as ContainGroup and
// ContainCgroup fails with ErrNoCgroup.
type Contain int

const (
	// ContainSubreaper, the default, stops every process the child
	// started, also those that left its process group (setsid, a daemon's
	// double fork). The child gets a marker in its environment
	// (MP_SUBPROCESS_RUN, a list of run tokens, which its descendants
	// inherit), and this process becomes a child subreaper (prctl
	// PR_SET_CHILD_SUBREAPER), so that a descendant orphaned by its parent
	// becomes a child of this process instead of init's and stays in its
	// process tree. A stop then kills, after the group, every process of
	// that tree that carries the child's marker, round after round until
	// none is alive, and reaps those that became children of this process.
	//
	// Until a stop it costs nothing measurable (BenchmarkRunContain): one
	// environment entry per run, and a look at this process's children
	// 10 ms after each burst of child exits. It applies only to a child
	// that a timeout or its context may stop: another gets no marker. When
	// the child exits by itself, what it left running in the background
	// runs on, as in Python; once orphaned it is a child of this process,
	// which reaps it when it exits.
	//
	// It cannot reach a descendant that left the group and runs a program
	// with an environment that lacks the marker (env -i), or one whose
	// environment this process may not read (a setuid program, unless this
	// process has CAP_SYS_PTRACE); use ContainCgroup for those. Where Go's
	// os.Process holds no pidfd for its children (Linux before 5.4, or
	// pidfds blocked by a sandbox), it acts as ContainGroup. With the
	// portable mechanisms (build tag mpportable) it works the same, but
	// signals a marked process by its pid right after checking its start
	// time, rather than through a pidfd, and polls for its exit.
	//
	// Being a subreaper is process-wide and lasts: orphans of every child
	// come to this process, which reaps each one that exits and is not
	// waited for by Go code (a child of os.Process, os/exec or mp holds a
	// pidfd, which tells them apart). A program that starts children in
	// some other way (fork and waitpid in C) and waits for them by pid
	// should use ContainGroup for every run, or this process may reap them
	// first.
	ContainSubreaper Contain = iota

	// ContainGroup stops the child's process group (see Group) and nothing
	// more: a descendant that left the group runs on. Its pipes are still
	// cut after a short drain, so that it cannot hang the caller.
	ContainGroup

	// ContainCgroup runs the child in a cgroup v2 of its own, created
	// under this process's cgroup when it starts (clone3 with
	// CLONE_INTO_CGROUP) and removed when it ends. Nothing the child starts
	// leaves the cgroup, whatever its environment, session or parent (only
	// a process with the right to write to another cgroup, such as root,
	// could move itself out), so a stop kills everything at once
	// (cgroup.kill). When the child exits
	// by itself, whatever it started that still runs is killed as well,
	// as systemd does with a service's control group: the run is one
	// unit, and Wait returns once the cgroup is gone. This process also
	// becomes a child subreaper, as with ContainSubreaper, to reap what it
	// kills.
	//
	// It needs Linux 5.14, cgroup v2, and write access to this process's
	// own cgroup (root, or a cgroup delegated to the user, as systemd does
	// with Delegate=yes); most containers have none. Where it is missing,
	// Start and Run fail with an error that matches ErrNoCgroup. Creating
	// and removing the cgroup costs about a millisecond per run on a small
	// 2-core machine, as much as the run of a short program itself.
	ContainCgroup
)

// markKey is the environment variable that carries the marker of a child
// under ContainSubreaper: space-separated tokens, one per contained run
// the process descends from.
const markKey = "MP_SUBPROCESS_RUN"

// markSeq numbers the markers of this process.
var markSeq atomic.Uint64

// containment is what a child about to start is contained by: a marker, a
// cgroup, or neither (its group alone).
type containment struct {
	mark string
	cg   *cgroup
}

// containment sets up the containment of a child about to start.
func (s *settings) containment(ctx context.Context) (containment, error) {
	switch {
	case s.Contain == ContainCgroup:
		cg, err := newCgroup()
		if err == nil {
			_ = becomeSubreaper() // best effort: else init reaps what it kills
		}
		return containment{cg: cg}, err
	case s.Contain == ContainSubreaper && s.mayStop(ctx) && becomeSubreaper() == nil:
		return containment{mark: fmt.Sprintf("%d.%d", os.Getpid(), markSeq.Add(1))}, nil
	}
	return containment{}, nil
}

// markEnv returns env with mark added to markKey's tokens (the last entry
// of that key wins, as in exec.Cmd).
func markEnv(env []string, mark string) []string {
	value := mark
	for _, kv := range env {
		if old, ok := strings.CutPrefix(kv, markKey+"="); ok && old != "" {
			value = old + " " + mark
		}
	}
	return append(env, markKey+"="+value)
}

// termContained sends SIGTERM to the processes the containment reaches
// that signalTree did not signal, then waits until every process it
// reaches has exited, or until deadline.
func (p *Popen) termContained(deadline time.Time) {
	switch {
	case p.cg != nil:
		p.cg.term(deadline, p.signalledByTree)
	case p.mark != "":
		termMarked(p.mark, deadline, p.signalledByTree)
	}
}

// signalledByTree reports whether signalTree signals process pid: the
// child itself, or a member of the group it leads.
func (p *Popen) signalledByTree(pid int) bool {
	return pid == p.Pid || p.pgid != 0 && procPgid(pid) == p.pgid
}

// procPgid returns the process group of process pid, or -1.
func procPgid(pid int) int {
	info, err := procinfo.Read(pid)
	if err != nil {
		return -1
	}
	return info.Group
}

// killContained kills what the containment reaches beyond the group: the
// whole cgroup (which reap then waits for and removes), or every marked
// process, round after round until none is alive, reaping those that
// became this process's children. The child's own process is left for
// reap.
func (p *Popen) killContained() {
	switch {
	case p.cg != nil:
		p.cg.kill()
	case p.mark != "":
		killMarked(p.mark)
	}
}
