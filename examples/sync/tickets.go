package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 35, Topic: "sync", Name: "ticket-check", Title: "5 processes read the ticket count from a JSON file", Run: ticketCheck})
	examples.Add(examples.Example{Seed: 36, Topic: "sync", Name: "ticket-buy-unlocked", Title: "5 buyers, 1 ticket, no lock: the ticket is oversold", Run: ticketBuyUnlocked})
	examples.Add(examples.Example{Seed: 37, Topic: "sync", Name: "ticket-buy-locked", Title: "5 buyers, 1 ticket, a Mutex: exactly one succeeds", Run: ticketBuyLocked})
}

// tickets is the content of the ticket file.
type tickets struct {
	Count int `json:"count"`
}

// buyer is what a buyer process gets: the ticket file, its number, and the
// lock (nil for none).
type buyer struct {
	File string
	I    int
	Lock *mp.Mutex
}

func readTickets(file string) (tickets, error) {
	var t tickets
	data, err := os.ReadFile(file)
	if err == nil {
		err = json.Unmarshal(data, &t)
	}
	return t, err
}

func writeTickets(file string, t tickets) error {
	data, _ := json.Marshal(t)
	return os.WriteFile(file, data, 0o644)
}

// ticketFile writes {"count": 1} into a new temporary directory (the seeds
// use the working directory) and returns the file and a cleanup.
func ticketFile() (string, func(), error) {
	dir, err := os.MkdirTemp("", "mp-tickets-")
	if err != nil {
		return "", nil, err
	}
	file := filepath.Join(dir, "ticket")
	return file, func() { os.RemoveAll(dir) }, writeTickets(file, tickets{Count: 1})
}

var checkTicket = mp.Register("examples.sync.checkTicket", func(_ context.Context, b buyer) (struct{}, error) {
	t, err := readTickets(b.File)
	if err != nil {
		return struct{}{}, err
	}
	fmt.Printf("person%d %d\n", b.I, t.Count)
	return struct{}{}, nil
})

// ticketCheck is seed 35: reading a shared file at the same time is
// harmless.
func ticketCheck(ctx context.Context, w io.Writer) error {
	return withBuyers(ctx, w, checkTicket, nil)
}

var buyTicket = mp.Register("examples.sync.buyTicket", func(ctx context.Context, b buyer) (struct{}, error) {
	if b.Lock != nil {
		defer b.Lock.Close()
		if err := b.Lock.Lock(ctx); err != nil {
			return struct{}{}, err
		}
		defer b.Lock.Unlock()
	}
	t, err := readTickets(b.File)
	if err != nil {
		return struct{}{}, err
	}
	randomSleep(ctx) // read delay
	if t.Count > 0 {
		fmt.Printf("person%d bought a ticket\n", b.I)
		t.Count--
	} else {
		fmt.Printf("no tickets left, person%d failed to buy\n", b.I)
	}
	randomSleep(ctx) // write delay
	return struct{}{}, writeTickets(b.File, t)
})

// ticketBuyUnlocked is seed 36: every buyer reads count 1 before anyone
// writes 0 back, so (almost) everyone "succeeds".
func ticketBuyUnlocked(ctx context.Context, w io.Writer) error {
	return withBuyers(ctx, w, buyTicket, nil)
}

// ticketBuyLocked is seed 37: the Mutex around the whole read-modify-write
// makes the purchases serial: exactly one succeeds.
func ticketBuyLocked(ctx context.Context, w io.Writer) error {
	lock, err := mp.NewMutex()
	if err != nil {
		return err
	}
	defer lock.Close()
	return withBuyers(ctx, w, buyTicket, lock)
}

// withBuyers runs five processes of fn on a fresh ticket file, then prints
// what the file holds.
func withBuyers(ctx context.Context, w io.Writer, fn mp.Func[buyer, struct{}], lock *mp.Mutex) error {
	file, cleanup, err := ticketFile()
	if err != nil {
		return err
	}
	defer cleanup()
	ps, err := examples.StartN(5, w, fn, func(i int) buyer { return buyer{file, i, lock} })
	if err := joinErr(err, waitAll(ctx, ps)); err != nil {
		return err
	}
	data, err := os.ReadFile(file)
	fmt.Fprintf(w, "the ticket file holds %s\n", data)
	return err
}
