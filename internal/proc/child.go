package proc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/diag"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/funcs"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/internal/wire"
	"golang.org/x/sys/unix"
)

// envChild marks a child started by mp; its value is "v<version>,fd=<fd>",
// the protocol version and the descriptor of the control socket.
const envChild = "_MP_CHILD"

// orphanGrace is how long a child whose parent died lets its function react
// to the cancelled context before it exits.
const orphanGrace = 250 * time.Millisecond

const notByHand = `mp: this process was started as a child of an mp program (%s=%q is set), but it has no parent to talk to: %v.
It is not meant to be run by hand; unset %s to run the program normally.
`

// runChild is Main in a child: it runs the function the parent asks for and
// returns the exit code.
func runChild(marker string, beforeReply func()) int {
	os.Unsetenv(envChild)
	spare := isWarmSpare()
	restoreArgv0()
	if spare {
		// The program's name while it waits for its own, rather than the
		// "exe" of /proc/self/exe. Its main thread only: its name, when it
		// comes, goes to every thread.
		setComm(filepath.Base(argv0()), true)
	}
	fd, err := parseMarker(marker)
	if err != nil {
		fmt.Fprintf(os.Stderr, notByHand, envChild, marker, err, envChild)
		return 2
	}
	unix.CloseOnExec(fd)
	ctl, err := transport.NewConn(fd)
	if err != nil {
		fmt.Fprintf(os.Stderr, notByHand, envChild, marker, err, envChild)
		return 2
	}
	if spare {
		rehearse()
	}
	if ctl.Send(context.Background(), transport.Msg{Kind: ctlReady}) != nil {
		return 0 // the parent is gone already
	}
	m, err := ctl.Recv(context.Background())
	if err != nil {
		// The parent died or shut down before giving work (a warm spare).
		return 0
	}
	return serve(ctl, m, beforeReply)
}

// rehearse encodes and decodes, in a warm spare before it reports ready,
// messages like those its start will carry, so that the code and the
// codec's per-type state they need are in memory when the start comes:
// done cold, on the start's path, they cost about 100 µs here.
func rehearse() {
	data, _, err := wire.Marshal(startMsg{Func: "f", Arg: []byte{0}, Name: "n", Identity: []int{1},
		AuthKey: []byte{0}, Env: []string{"K=V"}, Dir: "/", StdoutFD: -1, StderrFD: -1})
	if err == nil {
		var sm startMsg
		wire.Unmarshal(data, nil, &sm)
	}
	wire.Marshal(resultMsg{Value: []byte{0}})
}

func parseMarker(marker string) (int, error) {
	v, fdText, ok := strings.Cut(marker, ",fd=")
	if !ok || !strings.HasPrefix(v, "v") {
		return 0, errors.New("malformed marker")
	}
	if v != "v"+strconv.Itoa(protoVersion) {
		return 0, fmt.Errorf("the parent speaks protocol %s and this binary v%d: parent and child are different builds; rebuild and run one binary", v, protoVersion)
	}
	return strconv.Atoi(fdText)
}

// serve runs the function of the start message m.
func serve(ctl *transport.Conn, m transport.Msg, beforeReply func()) int {
	var sm startMsg
	if m.Kind != ctlStart || wire.Unmarshal(m.Data, nil, &sm) != nil || !sm.valid(len(m.FDs)) {
		m.Close()
		fmt.Fprintln(os.Stderr, "mp: child got a malformed start message from its parent")
		return 2
	}
	argFDs := m.FDs[:sm.ArgFDs]
	if err := applyWarm(&sm, m.FDs); err != nil {
		return reply(ctl, sm.Func, nil, nil, err)
	}
	setSelf(&sm)
	setComm(sm.Name, false)
	fwd := slog.New(&forwarder{ctl: ctl, level: slog.Level(sm.LogLevel)})
	slog.SetDefault(fwd)
	if sm.Diag {
		diag.Forward(fwd)
	}
	inv, ok := funcs.Lookup(sm.Func)
	if !ok {
		descr.Close(argFDs)
		return reply(ctl, sm.Func, nil, nil, fmt.Errorf("%w: %q is not registered in %s; register it at package level with mp.Register, in a package this binary imports", errs.ErrUnknownFunction, sm.Func, os.Args[0]))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go lifeline(ctl, cancel)
	res, resFDs, err := inv(ctx, sm.Arg, argFDs)
	if beforeReply != nil {
		beforeReply()
	}
	return reply(ctl, sm.Func, res, resFDs, err)
}

// lifeline waits for the control socket to close, which happens when the
// parent dies (however it dies, SIGKILL included): it cancels the function's
// context and, after a short grace, ends the process.
func lifeline(ctl *transport.Conn, cancel context.CancelFunc) {
	for {
		m, err := ctl.Recv(context.Background())
		if err != nil {
			break
		}
		m.Close()
	}
	cancel()
	time.Sleep(orphanGrace)
	os.Exit(1)
}

// reply sends the function's result or error to the parent and returns the
// exit code: 0 for a result, 1 for an error (as Python's exitcode).
func reply(ctl *transport.Conn, name string, res []byte, fds []int, err error) int {
	if err == nil && len(fds) > maxResultFDs {
		descr.Close(fds)
		res, fds, err = nil, nil, fmt.Errorf("mp: the result holds %d descriptors (a handle carries one or more), at most %d", len(fds), maxResultFDs)
	}
	defer descr.Close(fds)
	msg := resultMsg{Value: res}
	code := 0
	if err != nil {
		msg.Err, code = errs.Describe(name, err), 1
	}
	if sendCtl(context.Background(), ctl, ctlResult, msg, fds) != nil && code == 0 {
		code = 1
	}
	return code
}

// applyWarm applies, in a warm process, what a spawned child would have got
// from exec: environment, working directory, standard output and error.
func applyWarm(sm *startMsg, fds []int) error {
	defer func() {
		for _, i := range []int{sm.StdoutFD, sm.StderrFD} {
			if i >= 0 && i < len(fds) {
				unix.Close(fds[i])
			}
		}
	}()
	if !sm.Warm {
		return nil
	}
	if sm.Env != nil {
		os.Clearenv()
		for _, kv := range sm.Env {
			k, v, _ := strings.Cut(kv, "=")
			os.Setenv(k, v)
		}
	}
	if sm.Dir != "" {
		if err := os.Chdir(sm.Dir); err != nil {
			return fmt.Errorf("mp: start in %s: %w", sm.Dir, err)
		}
	}
	for target, i := range map[int]int{1: sm.StdoutFD, 2: sm.StderrFD} {
		if i >= 0 && i < len(fds) {
			if err := dupTo(fds[i], target); err != nil {
				return fmt.Errorf("mp: redirect descriptor %d: %w", target, err)
			}
			// os.Stdout and os.Stderr write to them blocking, outside Go's
			// poller: a pipe end made non-blocking by its maker would drop
			// output with EAGAIN once full.
			if err := unix.SetNonblock(target, false); err != nil {
				return fmt.Errorf("mp: redirect descriptor %d: %w", target, err)
			}
		}
	}
	return nil
}
