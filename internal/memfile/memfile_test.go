package memfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/fdtest"
	"github.com/mpgo/mp/internal/memfile"
	"golang.org/x/sys/unix"
)

// The test binary is its own helper process: with helperEnv set, it checks
// and maps the file on descriptor 3, writes what the variable says at its
// start, makes a scratch name (which sweeps leftovers) and exits.
const helperEnv = "MEMFILE_TEST_HELPER"

func TestMain(m *testing.M) {
	if msg := os.Getenv(helperEnv); msg != "" {
		os.Exit(helper(msg))
	}
	os.Exit(m.Run())
}

func helper(msg string) int {
	size, err := memfile.Check(3, memfile.FixedSize)
	if err != nil {
		fmt.Fprintln(os.Stderr, "check:", err)
		return 2
	}
	mem, err := unix.Mmap(3, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		fmt.Fprintln(os.Stderr, "map:", err)
		return 2
	}
	copy(mem, msg)
	memfile.ScratchPath("helper")
	return 0
}

func create(t *testing.T, size int64, g memfile.Guard) int {
	t.Helper()
	fd, err := memfile.Create("test", size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := memfile.Seal(fd, g); err != nil {
		t.Fatal(err)
	}
	return fd
}

func TestCreateCheckRead(t *testing.T) {
	fd, err := memfile.Create("test", 10000)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	want := bytes.Repeat([]byte("0123456789"), 900)
	if err := memfile.WriteAt(fd, want); err != nil {
		t.Fatal(err)
	}
	if err := memfile.Seal(fd, memfile.FixedSize|memfile.FixedBytes); err != nil {
		t.Fatal(err)
	}
	size, err := memfile.Check(fd, memfile.FixedSize|memfile.FixedBytes)
	if err != nil || size != 10000 {
		t.Fatalf("Check = %d, %v; want 10000 bytes", size, err)
	}
	got, err := memfile.Read(fd, 10000)
	if err != nil || !bytes.Equal(got[:9000], want) || !bytes.Equal(got[9000:], make([]byte, 1000)) {
		t.Fatalf("Read = %q…, %v", got[:20], err)
	}
	if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("descriptor flags %#x, %v: want close-on-exec", flags, err)
	}
}

// A file made by Create leaves no name behind.
func TestCreateLeavesNoName(t *testing.T) {
	create(t, 4096, memfile.FixedSize)
	ents, err := os.ReadDir(memfile.ScratchDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if memfile.ScratchCreator(e.Name()) == os.Getpid() {
			t.Errorf("%s left in %s", e.Name(), memfile.ScratchDir())
		}
	}
}

// A file read with Read that is shorter than announced is an error, never
// a fault.
func TestReadShort(t *testing.T) {
	fd := create(t, 100, memfile.FixedSize|memfile.FixedBytes)
	if _, err := memfile.Read(fd, 100); err != nil {
		t.Fatal(err)
	}
	if err := memfile.ReadAt(fd, make([]byte, 200)); !errors.Is(err, errs.ErrProtocol) {
		t.Fatalf("ReadAt past the end = %v, want ErrProtocol", err)
	}
}

// Check refuses what is not shared memory made by Create: a named file
// may be on any mount, and anyone may resize it.
func TestCheckRefusesForeign(t *testing.T) {
	for what, fd := range fdtest.Foreign(t) {
		wantRefused(t, what, fd)
	}
}

func wantRefused(t *testing.T, what string, fd int) {
	t.Helper()
	if _, err := memfile.Check(fd, memfile.FixedSize); !errors.Is(err, errs.ErrNotSealed) {
		t.Errorf("Check of a %s = %v, want errs.ErrNotSealed", what, err)
	}
}

func TestScratchCreator(t *testing.T) {
	for name, want := range map[string]int{
		memfile.ScratchPrefix + "123-00ff-bell": 123,
		memfile.ScratchPrefix + "x-00ff-bell":   0,
		memfile.ScratchPrefix + "123":           0,
		"mp-123-00ff":                           0,
	} {
		if got := memfile.ScratchCreator(name); got != want {
			t.Errorf("ScratchCreator(%q) = %d, want %d", name, got, want)
		}
	}
	p := memfile.ScratchPath("label")
	if filepath.Dir(p) != memfile.ScratchDir() || memfile.ScratchCreator(filepath.Base(p)) != os.Getpid() {
		t.Errorf("ScratchPath = %s", p)
	}
}

// Another process maps a file it received and writes to it: this process
// sees the bytes. That process, at its first scratch name, also removes the
// leftover name of a creator that no longer runs.
func TestSharedWithChild(t *testing.T) {
	fd := create(t, 4096, memfile.FixedSize)
	mem, err := unix.Mmap(fd, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)

	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	leftover := filepath.Join(memfile.ScratchDir(), memfile.ScratchPrefix+strconv.Itoa(gone.Process.Pid)+"-00-test")
	if err := os.WriteFile(leftover, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(leftover)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=hello from the child")
	// The child's copy, in a File of its own (one made of fd would close
	// fd when collected, whatever the number names by then).
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	child := os.NewFile(uintptr(dup), "memfile")
	defer child.Close()
	cmd.ExtraFiles = []*os.File{child}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := string(mem[:20]); got != "hello from the child" {
		t.Fatalf("the file holds %q", got)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover of a dead creator: %v, want it removed", err)
	}
}
