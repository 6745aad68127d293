package sync

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 39, Topic: "sync", Name: "event-basics", Title: "Event: IsSet starts false; Set makes Wait return at once", Run: eventBasics})
	examples.Add(examples.Example{Seed: 40, Topic: "sync", Name: "traffic-light-no-event", Title: "a traffic light and cars with no coordination", Run: trafficNoEvent})
	examples.Add(examples.Example{Seed: 41, Topic: "sync", Name: "traffic-light-event", Title: "traffic light with an Event: cars wait on red, pass on green", Run: trafficEvent})
	examples.Add(examples.Example{Seed: 89, Topic: "sync", Name: "event-input", Title: "waiters released by an Event when the (simulated) user types 1", Run: eventInput})
}

const (
	red   = "\033[1;31mred light on\033[0m"
	green = "\033[1;32mgreen light on\033[0m"
)

// eventBasics is seed 39. The seed's middle variant, Wait without Set,
// hangs forever in Python; here it is a Wait with a deadline.
func eventBasics(ctx context.Context, w io.Writer) error {
	e, err := mp.NewEvent()
	if err != nil {
		return err
	}
	defer e.Close()
	fmt.Fprintln(w, e.IsSet())
	short, cancel := context.WithTimeout(ctx, second)
	defer cancel()
	fmt.Fprintln(w, "Wait on a clear event with a deadline:", e.Wait(short))
	e.Set()
	if err := e.Wait(ctx); err != nil {
		return err
	}
	fmt.Fprintln(w, e.IsSet())
	fmt.Fprintln(w, "1")
	return nil
}

var lightNoEvent = mp.Register("examples.sync.lightNoEvent", func(ctx context.Context, _ struct{}) (struct{}, error) {
	fmt.Println(red)
	examples.Sleep(ctx, 2*second)
	fmt.Println(green)
	examples.Sleep(ctx, 2*second)
	return struct{}{}, nil
})

var carNoEvent = mp.Register("examples.sync.carNoEvent", func(_ context.Context, i int) (struct{}, error) {
	fmt.Printf("car%d passes the crossing\n", i)
	return struct{}{}, nil
})

// trafficNoEvent is seed 40: the cars ignore the light.
func trafficNoEvent(ctx context.Context, w io.Writer) error {
	ps, err := examples.StartN(1, w, lightNoEvent, func(int) struct{} { return struct{}{} })
	if err == nil {
		var cars []*mp.Process
		cars, err = examples.StartN(5, w, carNoEvent, func(i int) int { return i + 1 })
		ps = append(ps, cars...)
	}
	return joinErr(err, waitAll(ctx, ps))
}

// lightArg is what the light of seed 41 gets: the event it sets on green,
// and one the parent sets once every car has passed.
type lightArg struct {
	Green, CarsGone *mp.Event
}

// light cycles six times, as the seed's does, and on while a car may still
// come: the seed's six cycles outlast the cars' arrivals by seconds, but
// scaled down to tenths, a car started late on a busy machine could find
// the light gone and wait for ever.
var light = mp.Register("examples.sync.light", func(ctx context.Context, a lightArg) (struct{}, error) {
	defer a.Green.Close()
	defer a.CarsGone.Close()
	for n := 0; n < 6 || !a.CarsGone.IsSet(); n++ {
		fmt.Println(red)
		if err := examples.Sleep(ctx, 2*second); err != nil {
			return struct{}{}, err
		}
		a.Green.Set()
		fmt.Println(green)
		if err := examples.Sleep(ctx, 2*second); err != nil {
			return struct{}{}, err
		}
		a.Green.Clear()
	}
	return struct{}{}, nil
})

type carArg struct {
	I     int
	Green *mp.Event
}

var car = mp.Register("examples.sync.car", func(ctx context.Context, a carArg) (struct{}, error) {
	defer a.Green.Close()
	if !a.Green.IsSet() {
		fmt.Printf("car%d is waiting\n", a.I)
	}
	if err := a.Green.Wait(ctx); err != nil {
		return struct{}{}, err
	}
	fmt.Printf("car%d passes the crossing\n", a.I)
	return struct{}{}, nil
})

// trafficEvent is seed 41: the light process sets the event on green and
// clears it on red; cars arriving every 1-3 (scaled) seconds wait for green.
func trafficEvent(ctx context.Context, w io.Writer) error {
	e, err := mp.NewEvent()
	if err != nil {
		return err
	}
	defer e.Close()
	gone, err := mp.NewEvent()
	if err != nil {
		return err
	}
	defer gone.Close()
	lights, err := examples.StartN(1, w, light, func(int) lightArg { return lightArg{e, gone} })
	var cars []*mp.Process
	for i := 1; i <= 5 && err == nil; i++ {
		examples.Sleep(ctx, time.Duration(rand.IntN(3)+1)*second)
		var c []*mp.Process
		c, err = examples.StartN(1, w, car, func(int) carArg { return carArg{i, e} })
		cars = append(cars, c...)
	}
	err = joinErr(err, waitAll(ctx, cars))
	gone.Set()
	return joinErr(err, waitAll(ctx, lights))
}

// eventInput is seed 89, with goroutines for Python's threads and the
// user's input simulated: a goroutine types "1" ten times. As in Python, a
// goroutine that reaches Wait only after the Set and Clear of its round
// misses it; here it is released at the end, so that nothing is left
// waiting.
func eventInput(ctx context.Context, w io.Writer) error {
	e, err := mp.NewEvent()
	if err != nil {
		return err
	}
	defer e.Close()
	input := simulatedInput(strings.Repeat("1\n", 10))
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			fmt.Fprintln(w, "start")
			if e.Wait(ctx) == nil {
				fmt.Fprintln(w, "done")
			}
		})
		line, err := prompt(w, input, ">>>:")
		if err != nil {
			return err
		}
		if line == "1" {
			e.Set()
		}
		e.Clear()
	}
	e.Set()
	wg.Wait()
	return nil
}

// simulatedInput stands for standard input: it yields text line by line.
func simulatedInput(text string) *bufio.Scanner {
	return bufio.NewScanner(strings.NewReader(text))
}

// prompt is Python's input(p) on the simulated input: it writes the prompt
// and the line typed, and returns the line.
func prompt(w io.Writer, in *bufio.Scanner, p string) (string, error) {
	time.Sleep(second / 10) // the user takes a moment to type
	if !in.Scan() {
		return "", io.ErrUnexpectedEOF
	}
	fmt.Fprintf(w, "%s%s\n", p, in.Text())
	return in.Text(), nil
}
