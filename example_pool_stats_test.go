package mp_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/mpgo/mp"
)

var checkAge = mp.Register("example.checkAge", func(_ context.Context, age int) (int, error) {
	if age < 0 {
		return 0, errors.New("negative age")
	}
	return age, nil
})

func ExamplePool_Stats() {
	ctx := context.Background()
	p, err := mp.NewPool(mp.PoolOptions{Processes: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Terminate()
	for _, age := range []int{30, -1, 42} {
		mp.Apply(ctx, p, checkAge, age)
	}
	s := p.Stats()
	fmt.Printf("%d workers, %d running, %d queued; %d done, %d failed\n", s.Workers, s.Running, s.Queued, s.Done, s.Failed)
	// Output: 2 workers, 0 running, 0 queued; 2 done, 1 failed
}
