// Command sim prints the hit ratio of every implementation on every
// simulated workload as a Markdown table.
//
//	go run ./cmd/sim [-scale 1] [-impl gridkeep,otter,...] [-only NAME]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/gridkeep/gridkeep/bench/internal/impl"
	"github.com/gridkeep/gridkeep/bench/internal/workload"
	"github.com/gridkeep/gridkeep/bench/sim"
)

func main() {
	scale := flag.Float64("scale", 1, "fraction of the standard number of requests")
	impls := flag.String("impl", "gridkeep,gridkeep-fifo,otter,ristretto,lru,2q,sieve,s3fifo",
		"implementations, comma-separated")
	only := flag.String("only", "", "run only workloads whose name contains this")
	flag.Parse()
	if err := run(*scale, strings.Split(*impls, ","), *only); err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(1)
	}
}

// competitors are the implementations the hit-ratio target compares
// gridkeep with.
var competitors = map[string]bool{"otter": true, "ristretto": true, "lru": true, "2q": true}

func run(scale float64, names []string, only string) error {
	keys := workload.Keys(1_000_000)
	fmt.Printf("| workload | capacity | %s | best | gridkeep − best competitor |\n", strings.Join(names, " | "))
	fmt.Printf("|---|---:|%s---|---:|\n", strings.Repeat("---:|", len(names)))
	var rows, bestOn, within int
	for _, w := range sim.Workloads() {
		if !strings.Contains(w.Name, only) {
			continue
		}
		reqs := w.Trace(scale)
		ratios := make([]float64, len(names))
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2)
		for i, name := range names {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				ratios[i], errs[i] = sim.Run(name, w, reqs, keys)
			})
		}
		wg.Wait()
		fmt.Printf("| %s | %d |", w.Name, w.Capacity)
		best := 0
		for i, r := range ratios {
			switch {
			case errors.Is(errs[i], impl.ErrUnsupported):
				ratios[i] = -1
				fmt.Print(" – |")
				continue
			case errs[i] != nil:
				return errs[i]
			}
			fmt.Printf(" %.2f |", r)
			if r > ratios[best] {
				best = i
			}
		}
		fmt.Printf(" %s |", names[best])
		gap, ok := gapToCompetitors(names, ratios)
		if !ok {
			fmt.Println(" – |")
			continue
		}
		fmt.Printf(" %+.2f |\n", gap)
		rows++
		if gap > 0 {
			bestOn++
		}
		if gap >= -0.3 {
			within++
		}
	}
	if rows > 0 {
		fmt.Printf("\ngridkeep is best on %d of %d workloads and within 0.3 points "+
			"of the best competitor on %d of %d.\n",
			bestOn, rows, within, rows)
	}
	return nil
}

// gapToCompetitors returns gridkeep's hit ratio minus the best competitor's.
func gapToCompetitors(names []string, ratios []float64) (float64, bool) {
	ours, best, found := -1.0, -1.0, false
	for i, n := range names {
		switch {
		case n == "gridkeep":
			ours, found = ratios[i], true
		case competitors[n]:
			best = max(best, ratios[i])
		}
	}
	return ours - best, found && best >= 0
}
