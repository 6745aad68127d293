package cluster

import "github.com/mpgo/mp"

// Main is mp.Main for programs that use this package: the first statement
// of main and of TestMain.
func Main() {
	mp.Main()
}
