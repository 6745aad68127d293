// Package threading ports the seed programs about Python threads, the Go
// way: goroutines, sync, context and time, with a note in each on why Go
// does it so.
package threading
