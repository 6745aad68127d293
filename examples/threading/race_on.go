//go:build race

package threading

// raceEnabled reports whether the program was built with -race.
const raceEnabled = true
