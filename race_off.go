//go:build !race

package mp

const raceEnabled = false
