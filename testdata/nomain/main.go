// Command nomain is a program that forgets to call mp.Main: its children run
// main instead of their function, and must stop with a message naming the
// fix instead of starting children of their own.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/mpgo/mp"
)

var hello = mp.Register("nomain.hello", func(context.Context, struct{}) (string, error) { return "hi", nil })

func main() {
	if len(os.Args) > 1 && os.Args[1] == "forkserver" {
		// Each spare runs main too: it must stop, not start spares of its
		// own.
		mp.SetStartMethod(mp.Forkserver)
	}
	_, err := mp.Call(context.Background(), hello, struct{}{})
	fmt.Println(err)
	if err == nil {
		os.Exit(1)
	}
}
