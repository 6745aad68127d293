//go:build !linux || mpportable

package memfile

// Read returns a private copy of the first size bytes of fd, checked with
// Check and at least size bytes long. Without seals the sender could shrink
// the file under a mapping and make this process fault, so the bytes are
// read with pread: a file shrunk meanwhile gives a short read, an error.
func Read(fd int, size int) ([]byte, error) {
	buf := make([]byte, size)
	if err := ReadAt(fd, buf); err != nil {
		return nil, err
	}
	return buf, nil
}
