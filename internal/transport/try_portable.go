//go:build !linux || mpportable

package transport

import (
	"context"
	"errors"
)

// CanTry reports whether this Conn has TrySend, TryRecvInto and
// AwaitWritable: no Conn of the portable build has (a stream cannot
// promise a frame goes whole or not at all).
func (c *Conn) CanTry() bool { return false }

// TrySend is not available on a stream: it returns errors.ErrUnsupported.
func (c *Conn) TrySend(Msg) error { return errors.ErrUnsupported }

// TryRecvInto is not available on a stream: it returns errors.ErrUnsupported.
func (c *Conn) TryRecvInto([]byte) (Msg, error) { return Msg{}, errors.ErrUnsupported }

// AwaitWritable is not available on a stream: it returns
// errors.ErrUnsupported.
func (c *Conn) AwaitWritable(context.Context) error { return errors.ErrUnsupported }

// WaitReadable is not available on a stream: it returns
// errs.ErrUnsupported.
func (c *Conn) WaitReadable(context.Context) (bool, error) { return false, errors.ErrUnsupported }

// Prepared is a message made ready to send; the portable build makes none.
type Prepared struct{}

// Close does nothing.
func (*Prepared) Close() {}

// InlineSize is 0: the portable build makes no Prepared.
func (*Prepared) InlineSize() int { return 0 }

// Prepare is not available on a stream: it returns errs.ErrUnsupported.
func (c *Conn) Prepare(Msg) (*Prepared, error) { return nil, errors.ErrUnsupported }

// TrySendPrepared is not available on a stream: it returns
// errs.ErrUnsupported.
func (c *Conn) TrySendPrepared(*Prepared, uint32) error { return errors.ErrUnsupported }
