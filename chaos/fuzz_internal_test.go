package chaos

import "testing"

func TestParseFuzzOutput(t *testing.T) {
	tests := []struct {
		out   string
		execs int
		found string
	}{
		{"fuzz: elapsed: 0s, gathering baseline coverage: 0/12 completed\n" +
			"fuzz: elapsed: 3s, execs: 81234 (27076/sec), new interesting: 3 (total: 15)\n" +
			"fuzz: elapsed: 5s, execs: 130001 (24384/sec), new interesting: 3 (total: 15)\nPASS\n", 130001, ""},
		{"fuzz: elapsed: 1s, execs: 512 (511/sec), new interesting: 0 (total: 2)\n" +
			"--- FAIL: FuzzX (1.02s)\n    Failing input written to testdata/fuzz/FuzzX/0123abcd\n", 512,
			"failing input in testdata/fuzz/FuzzX/0123abcd"},
		{"no fuzzing\n", 0, ""},
	}
	for _, tt := range tests {
		execs, found := parseFuzzOutput([]byte(tt.out))
		if execs != tt.execs || found != tt.found {
			t.Errorf("parseFuzzOutput(%q) = %d, %q; want %d, %q", tt.out, execs, found, tt.execs, tt.found)
		}
	}
}
