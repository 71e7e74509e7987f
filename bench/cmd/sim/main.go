// Command sim prints the hit ratio of every implementation on every
// simulated workload as a Markdown table.
//
//	go run ./cmd/sim [-scale 1] [-impl gridkeep,otter,...] [-only NAME]
package main

import (
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
	impls := flag.String("impl", "gridkeep,gridkeep-fifo,otter,ristretto,lru,2q", "implementations, comma-separated")
	only := flag.String("only", "", "run only workloads whose name contains this")
	flag.Parse()
	if err := run(*scale, strings.Split(*impls, ","), *only); err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(1)
	}
}

func run(scale float64, names []string, only string) error {
	keys := workload.Keys(1_000_000)
	fmt.Printf("| workload | capacity | %s | best |\n", strings.Join(names, " | "))
	fmt.Printf("|---|---:|%s---|\n", strings.Repeat("---:|", len(names)))
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
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		fmt.Printf("| %s | %d |", w.Name, w.Capacity)
		best := 0
		for i, r := range ratios {
			fmt.Printf(" %.2f |", r)
			if r > ratios[best] {
				best = i
			}
		}
		fmt.Printf(" %s |\n", names[best])
	}
	_ = impl.Names
	return nil
}
