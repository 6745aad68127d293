// Command progress hashes every file under a directory in a pool of worker
// processes and draws a progress bar while it works.
//
//	go run . [-all] [dir]
//
// By default it ranges over mp.ImapUnordered, which yields each file's
// index with its outcome: the bar advances by one per file, and a file
// that cannot be read is reported without stopping the others. With -all
// it calls mp.MapAsync, which gives every hash or the first error, and
// moves the bar from its Progress callback.
//
// It is a module of its own, so that the progress bar library it uses is
// no dependency of mp.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"

	"github.com/mpgo/mp"
	"github.com/schollz/progressbar/v3"
)

// hashFile returns the SHA-256 of a file's content, in hex. It runs in the
// pool's workers.
var hashFile = mp.Register("progress.hashFile", func(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
})

func main() {
	mp.Main()
	all := flag.Bool("all", false, "hash with MapAsync: every hash, or the first error")
	flag.Parse()
	dir := "."
	if flag.NArg() > 0 {
		dir = flag.Arg(0)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := run(ctx, os.Stdout, os.Stderr, dir, *all); err != nil {
		fmt.Fprintln(os.Stderr, "progress:", err)
		os.Exit(1)
	}
}

// run hashes the files under dir, printing a line per file on out and
// drawing the bar on barOut. It returns how far the bar went.
func run(ctx context.Context, out, barOut io.Writer, dir string, all bool) (int, error) {
	paths, err := files(dir)
	if err != nil {
		return 0, err
	}
	p, err := mp.NewPool(mp.PoolOptions{})
	if err != nil {
		return 0, err
	}
	defer p.Terminate()
	bar := progressbar.NewOptions(len(paths), progressbar.OptionSetWriter(barOut),
		progressbar.OptionSetDescription("hashing"), progressbar.OptionShowCount())
	if all {
		err = hashAll(ctx, out, p, paths, bar)
	} else {
		err = hashEach(ctx, out, p, paths, bar)
	}
	fmt.Fprintln(barOut)
	return int(bar.State().CurrentNum), err
}

// hashEach hashes the files as they come, reporting each failure.
func hashEach(ctx context.Context, out io.Writer, p *mp.Pool, paths []string, bar *progressbar.ProgressBar) error {
	failed := 0
	for i, r := range mp.ImapUnordered(ctx, p, hashFile, slices.Values(paths), mp.ImapOptions{}) {
		bar.Add(1)
		if r.Err != nil {
			failed++
			fmt.Fprintf(out, "%s: %v\n", paths[i], r.Err)
			continue
		}
		fmt.Fprintf(out, "%s  %s\n", r.Value, paths[i])
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be hashed", failed, len(paths))
	}
	return ctx.Err()
}

// hashAll hashes every file with one MapAsync, the bar moved by its
// Progress callback (called in this process, one call at a time).
func hashAll(ctx context.Context, out io.Writer, p *mp.Pool, paths []string, bar *progressbar.ProgressBar) error {
	f := mp.MapAsync(ctx, p, hashFile, paths, 0, mp.Callback[[]string]{
		Progress: func(done, total int) { bar.Set(done) },
	})
	sums, err := f.Get(ctx)
	if err != nil {
		return err
	}
	for i, sum := range sums {
		fmt.Fprintf(out, "%s  %s\n", sum, paths[i])
	}
	return nil
}

// files returns the paths of what is under dir, directories aside.
func files(dir string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			paths = append(paths, path)
		}
		return nil
	})
	return paths, err
}
