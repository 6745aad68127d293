package examples

import (
	"bytes"
	"io"
	"sync"
)

// LineWriter serializes writes from many goroutines to one writer and keeps
// lines whole: bytes are passed on only up to the last newline of each write,
// the rest waits for its newline (or for Flush). The tour gives every example
// one, so that output from concurrent goroutines and child processes is
// interleaved line by line, never mid-line.
type LineWriter struct {
	// mu guards w and the pending bytes of each writer.
	mu      sync.Mutex
	w       io.Writer
	pending []byte
}

// NewLineWriter returns a LineWriter that writes to w.
func NewLineWriter(w io.Writer) *LineWriter { return &LineWriter{w: w} }

// Write implements io.Writer. It is safe for concurrent use.
func (lw *LineWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.pending = append(lw.pending, p...)
	i := bytes.LastIndexByte(lw.pending, '\n')
	if i < 0 {
		return len(p), nil
	}
	_, err := lw.w.Write(lw.pending[:i+1])
	lw.pending = append(lw.pending[:0], lw.pending[i+1:]...)
	return len(p), err
}

// Flush writes any bytes still waiting for a newline.
func (lw *LineWriter) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if len(lw.pending) == 0 {
		return nil
	}
	_, err := lw.w.Write(lw.pending)
	lw.pending = lw.pending[:0]
	return err
}
