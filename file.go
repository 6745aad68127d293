package mp

import (
	"errors"
	"fmt"
	"os"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/wire"
)

const fileTag = wire.TagBase + 0x40

// File is an open file, socket or pipe that travels to another process as
// a handle: placed in the argument of a task or Process (or in any value mp
// sends), it arrives as an *os.File on the same open file description, the
// way Python's multiprocessing hands a socket to a pool worker. Wrap a
// network connection's descriptor with (*net.TCPConn).File and rebuild the
// connection on the other side with net.FileConn.
//
// Sending duplicates the descriptor: the sender may close its File once the
// value is sent (for Submit, once it returns). The receiver owns the File
// it gets and closes it.
type File struct {
	*os.File
}

// MarshalCBOR is plumbing: part of how a File travels to another
// process (see Handles in the package doc); not for direct use.
func (f File) MarshalCBOR() ([]byte, error) {
	if f.File == nil {
		return nil, errors.New("mp: send a File with no *os.File")
	}
	rc, err := f.File.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("mp: send a File: %w", err)
	}
	var data []byte
	var merr error
	if err := rc.Control(func(fd uintptr) { data, merr = wire.MarshalHandle(fileTag, []int{int(fd)}, f.File.Name()) }); err != nil {
		return nil, fmt.Errorf("mp: send a File: %w", err)
	}
	return data, merr
}

// UnmarshalCBOR is plumbing: part of how a File travels to another
// process (see Handles in the package doc); not for direct use.
func (f *File) UnmarshalCBOR(data []byte) error {
	var name string
	fds, err := wire.UnmarshalHandle(data, fileTag, &name)
	if err != nil {
		return err
	}
	if len(fds) != 1 {
		descr.Close(fds)
		return fmt.Errorf("%w: a File handle needs exactly one descriptor", ErrProtocol)
	}
	f.File = os.NewFile(uintptr(fds[0]), name)
	return nil
}
