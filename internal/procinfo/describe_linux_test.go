package procinfo

import "testing"

func TestParseDescription(t *testing.T) {
	d, err := parseDescription([]byte("4242 (a (strange) name) S 1 4242 4242 0 -1"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "a (strange) name" || d.Letter != 'S' {
		t.Errorf("parsed %+v", d)
	}
	for _, bad := range []string{"", "1 (x", "1 (x)", "1 (x) ", ")( S"} {
		if _, err := parseDescription([]byte(bad)); err == nil {
			t.Errorf("parseDescription(%q) accepted", bad)
		}
	}
}
