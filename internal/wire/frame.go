package wire

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/mpgo/mp/internal/errs"
)

// DefaultFrameCap is the largest frame a FrameReader accepts unless told
// otherwise: 64 MiB.
const DefaultFrameCap = 64 << 20

// WriteFrame writes p as one frame: its length as 4 big-endian bytes, then p.
func WriteFrame(w io.Writer, p []byte) error {
	if uint64(len(p)) > 1<<32-1 {
		return errs.ErrTooLarge
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(p)))
	if len(p) <= 4096 { // one write for small frames
		buf := make([]byte, 4+len(p))
		copy(buf, hdr[:])
		copy(buf[4:], p)
		_, err := w.Write(buf)
		return err
	}
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(p)
	return err
}

// FrameReader reads frames from a byte stream.
type FrameReader struct {
	r   io.Reader
	cap int
	hdr [4]byte
}

// NewFrameReader returns a reader of frames of at most cap bytes (zero or
// less: DefaultFrameCap).
func NewFrameReader(r io.Reader, cap int) *FrameReader {
	if cap <= 0 {
		cap = DefaultFrameCap
	}
	return &FrameReader{r: r, cap: cap}
}

// ReadFrame returns the next frame. A stream that ends between frames gives
// io.EOF; one that ends inside a frame gives io.ErrUnexpectedEOF; a frame
// over the cap gives an error matching errs.ErrTooLarge and errs.ErrProtocol, before
// anything of it is read or allocated.
func (fr *FrameReader) ReadFrame() ([]byte, error) {
	if _, err := io.ReadFull(fr.r, fr.hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(fr.hdr[:])
	if uint64(n) > uint64(fr.cap) {
		return nil, fmt.Errorf("%w: frame of %d bytes, cap %d", errs.ErrTooLarge, n, fr.cap)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(fr.r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
