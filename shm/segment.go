package shm

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mpgo/mp/internal/shmhome"
	"golang.org/x/sys/unix"
)

// segPath returns the path of segment name (package shmhome: /dev/shm on
// Linux, a directory of this user's in os.TempDir() on the portable set).
func segPath(name string) string { return filepath.Join(shmhome.Dir(), name) }

// ErrBadName is returned for a segment name that is empty, too long, or
// holds a '/' (a leading one is allowed and ignored, as in shm_open).
var ErrBadName = errors.New("shm: invalid segment name")

// Segment is named shared memory (Python: shared_memory.SharedMemory): a
// file mapped into the process, which unrelated processes of the same user
// open by its name. On Linux the file is in /dev/shm, as shm_open's are;
// on macOS and FreeBSD (and on Linux with the mpportable tag) it is in a
// directory of the user's under os.TempDir(), so names may be as long as
// file names there too (macOS's shm_open would limit them to 31 bytes).
//
// The process that creates a segment owns its name: the segment is removed
// (unlinked) when that process ends — however it ends, SIGKILL included —
// unless it called Keep. Processes that opened it keep their mapping until
// they Close it. A helper process of mp's, started at the first Create,
// removes the names of a creator that died (Python uses a resource tracker
// process the same way).
//
// A process that shrinks the file under the others makes their accesses past
// the new end fault; segments are for cooperating processes.
type Segment struct {
	name    string
	mem     []byte
	created bool
	tracked bool
}

// Create creates a segment of size bytes, zeroed, under name; an empty name
// picks a new unique one. It fails with an error matching fs.ErrExist if the
// name is taken.
func Create(name string, size int) (*Segment, error) {
	if size <= 0 {
		return nil, fmt.Errorf("shm: segment size %d must be positive", size)
	}
	if name == "" {
		name = randomName()
	}
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	if err := track(name); err != nil {
		return nil, err
	}
	s, err := create(name, size)
	if err != nil {
		untrack(name)
		return nil, err
	}
	s.tracked = true
	return s, nil
}

func create(name string, size int) (*Segment, error) {
	dir, err := shmhome.Make()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, &os.PathError{Op: "shm: create", Path: name, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Unlink(path)
		return nil, &os.PathError{Op: "shm: size", Path: name, Err: err}
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Unlink(path)
		return nil, &os.PathError{Op: "shm: map", Path: name, Err: err}
	}
	return &Segment{name: name, mem: mem, created: true}, nil
}

// Open maps the existing segment name. It fails with an error matching
// fs.ErrNotExist if there is none.
func Open(name string) (*Segment, error) {
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	dir, err := shmhome.Check()
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(filepath.Join(dir, name), unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, &os.PathError{Op: "shm: open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "shm: stat", Path: name, Err: err}
	}
	if st.Size <= 0 || st.Size > 1<<40 {
		return nil, fmt.Errorf("shm: segment %s has size %d", name, st.Size)
	}
	mem, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, &os.PathError{Op: "shm: map", Path: name, Err: err}
	}
	return &Segment{name: name, mem: mem}, nil
}

func cleanName(name string) (string, error) {
	name = strings.TrimPrefix(name, "/")
	if name == "" || len(name) > 255 || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return "", fmt.Errorf("%w: %q", ErrBadName, name)
	}
	return name, nil
}

func randomName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "mp-" + hex.EncodeToString(b)
}

// Name returns the segment's name, without a leading '/'.
func (s *Segment) Name() string { return s.name }

// Size returns the segment's size in bytes.
func (s *Segment) Size() int { return len(s.mem) }

// Bytes returns the shared memory itself: writes to it are seen by every
// process that maps the segment. It is valid until Close.
func (s *Segment) Bytes() []byte { return s.mem }

// Keep makes the segment outlive this process: it is no longer removed when
// the creator ends, only by Unlink. It does nothing for a segment this
// process did not create.
func (s *Segment) Keep() error {
	if !s.tracked {
		return nil
	}
	s.tracked = false
	return untrack(s.name)
}

// Close unmaps the segment in this process. It does not remove it (see
// Unlink); the creator's segment is removed when the creator ends, unless
// kept. Close is safe to call twice.
func (s *Segment) Close() error {
	if s.mem == nil {
		return nil
	}
	err := unix.Munmap(s.mem)
	s.mem = nil
	return err
}

// Unlink removes the segment's name, so that no process can open it any
// more; processes that map it keep the memory until they Close it. Any
// process may unlink a segment.
func (s *Segment) Unlink() error {
	err := unix.Unlink(segPath(s.name))
	if s.tracked {
		s.tracked = false
		untrack(s.name)
	}
	if err != nil {
		return &os.PathError{Op: "shm: unlink", Path: s.name, Err: err}
	}
	return nil
}
