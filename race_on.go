//go:build race

package mp

const raceEnabled = true
