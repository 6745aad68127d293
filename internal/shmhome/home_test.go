package shmhome_test

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/mpgo/mp/internal/platform"
	"github.com/mpgo/mp/internal/shmhome"
)

func TestMake(t *testing.T) {
	dir, err := shmhome.Make()
	if err != nil {
		t.Fatal(err)
	}
	if dir != shmhome.Dir() {
		t.Fatalf("Make = %s, Dir = %s", dir, shmhome.Dir())
	}
	st, err := os.Lstat(dir)
	if err != nil || !st.IsDir() {
		t.Fatalf("%s: %v, %v", dir, st, err)
	}
	if platform.Portable && st.Mode().Perm() != 0o700 {
		t.Fatalf("%s has mode %v, want 0700", dir, st.Mode())
	}
}

// A directory at the name that others may open is refused.
func TestMakeRefusesOpenDirectory(t *testing.T) {
	if !platform.Portable {
		t.Skip("/dev/shm is the system's")
	}
	t.Setenv("TMPDIR", t.TempDir())
	if err := os.Mkdir(shmhome.Dir(), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(shmhome.Dir(), 0o755)
	if _, err := shmhome.Make(); err == nil {
		t.Fatal("Make accepted a directory open to others")
	}
	if _, err := shmhome.Check(); err == nil {
		t.Fatal("Check accepted a directory open to others")
	}
	os.Remove(shmhome.Dir())
	if err := os.Symlink(t.TempDir(), shmhome.Dir()); err != nil {
		t.Fatal(err)
	}
	if _, err := shmhome.Make(); err == nil {
		t.Fatal("Make accepted a symbolic link")
	}
	if _, err := shmhome.Check(); err == nil {
		t.Fatal("Check accepted a symbolic link")
	}
}

// Before any segment is made, the directory does not exist: Check says so
// with an error that matches fs.ErrNotExist.
func TestCheckMissing(t *testing.T) {
	if !platform.Portable {
		t.Skip("/dev/shm is the system's")
	}
	t.Setenv("TMPDIR", t.TempDir())
	if _, err := shmhome.Check(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Check() = %v, want fs.ErrNotExist", err)
	}
}
