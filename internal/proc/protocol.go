package proc

import (
	"context"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/internal/wire"
)

// protoVersion is the version of the parent–child protocol. A child of a
// different version refuses to run.
const protoVersion = 1

// Kinds of messages on the control socket between a parent and its child.
const (
	ctlStart  byte = 1 // parent → child: what to run (startMsg)
	ctlResult byte = 3 // child → parent: the function's result (resultMsg)
	ctlLog    byte = 4 // child → parent: a log record (logRecord)
	// ctlReady, child → parent: it reached Main and waits for its start
	// message. A child that sent it takes the message unless it is killed
	// or the message is malformed (it says so on its standard error and
	// exits with code 2), so it serves as the hello that tells "never
	// reached Main" from "ended in its function": a separate hello after
	// the start message would cost the parent a wake-up on every start.
	ctlReady byte = 5
)

// startMsg tells a child what to run. The message's descriptors are the
// argument's handles, then Stdout's and Stderr's replacements, if any.
type startMsg struct {
	Func      string
	Arg       []byte
	ArgFDs    int
	Name      string
	Identity  []int
	Daemon    bool
	AuthKey   []byte
	ParentPid int
	// Set for a warm process, which applies them before the function runs.
	Warm     bool
	Env      []string
	Dir      string
	StdoutFD int // index into the descriptors, or -1
	StderrFD int
	// LogLevel is the lowest level of records the parent wants; Diag
	// says that it takes mp's own diagnostics too.
	LogLevel int
	Diag     bool
}

// maxResultFDs is the most handles' descriptors a result may carry: one
// message's worth, with room to spare.
const maxResultFDs = 200

// valid reports whether the message's descriptor indices fit the nfds
// descriptors that came with it: the argument's first, then the
// replacements for standard output and error.
func (sm *startMsg) valid(nfds int) bool {
	stdio := func(i int) bool { return i == -1 || (i >= sm.ArgFDs && i < nfds) }
	return sm.ArgFDs >= 0 && sm.ArgFDs <= nfds && stdio(sm.StdoutFD) && stdio(sm.StderrFD)
}

// resultMsg carries a function's encoded result, or its error. The
// message's descriptors are the result's handles.
type resultMsg struct {
	Value []byte
	Err   *errs.Remote
}

func sendCtl(ctx context.Context, c *transport.Conn, kind byte, v any, fds []int) error {
	data, _, err := wire.Marshal(v)
	if err != nil {
		return fmt.Errorf("mp: encode control message: %w", err)
	}
	return c.Send(ctx, transport.Msg{Kind: kind, Data: data, FDs: fds})
}
