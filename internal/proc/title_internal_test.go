package proc

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTitleAndComm(t *testing.T) {
	prog := filepath.Base(os.Args[0])
	for _, c := range []struct {
		name, title, comm string
	}{
		{"PoolWorker-3", prog + ": mp PoolWorker-3", "PoolWorker-3"},
		{"PoolWorker-1000", prog + ": mp PoolWorker-1000", "PoolWorker-1000"},
		{"a\x00b\nc", prog + ": mp a?b?c", "a?b?c"},
		{"ééééééééé", prog + ": mp ééééééééé", "ééééééé"}, // 2 bytes each: 7 fit in 15
	} {
		if got := title(c.name); got != c.title {
			t.Errorf("title(%q) = %q, want %q", c.name, got, c.title)
		}
		if got := cutComm(printable(c.name)); got != c.comm {
			t.Errorf("comm of %q = %q, want %q", c.name, got, c.comm)
		}
	}
}
