package main

import (
	"slices"
	"strconv"
	"time"
)

// medianTime runs fn n times and returns the median duration of one run.
func medianTime(n int, fn func() error) (time.Duration, error) {
	ts := make([]time.Duration, 0, n)
	for range n {
		t := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ts = append(ts, time.Since(t))
	}
	slices.Sort(ts)
	return ts[len(ts)/2], nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func itoa(n int) string { return strconv.Itoa(n) }

// warmMedian is medianTime of n round trips after 100 that warm both
// sides up.
func warmMedian(n int, trip func() error) (time.Duration, error) {
	for range 100 {
		if err := trip(); err != nil {
			return 0, err
		}
	}
	return medianTime(n, trip)
}
