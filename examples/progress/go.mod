module github.com/mpgo/mp/examples/progress

go 1.26.0

require (
	github.com/mpgo/mp v0.0.0
	github.com/schollz/progressbar/v3 v3.19.1
)

require (
	github.com/fxamacker/cbor/v2 v2.10.0 // indirect
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/term v0.44.0 // indirect
)

replace github.com/mpgo/mp => ../..
