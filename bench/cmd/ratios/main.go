// Command ratios reads the output of the throughput benchmarks and prints,
// as Markdown, the ratio of medians behind each throughput target together
// with a Mann-Whitney U test p-value, and whether the target is met.
//
//	go test -run '^$' -bench Throughput -cpu 1,2 -count 10 | go run ./cmd/ratios
package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
)

// line matches "BenchmarkThroughput/<workload>/impl=<name>[-<cpu>] N <ns> ns/op ...".
var line = regexp.MustCompile(`^BenchmarkThroughput/([^/]+)/impl=(.+?)(?:-(\d+))?\s+\d+\s+([\d.]+) ns/op(.*)$`)

var (
	allocs = regexp.MustCompile(`([\d.]+) allocs/op`)
	bytes  = regexp.MustCompile(`([\d.]+) B/op`)
)

type key struct {
	workload, impl string
	cpu            int
}

type samples struct {
	nsPerOp []float64
	allocs  []float64
	bytes   []float64
}

func main() {
	runs, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	report(os.Stdout, runs)
}

func parse(r io.Reader) (map[key]*samples, error) {
	runs := map[key]*samples{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		cpu := 1
		if m[3] != "" {
			cpu, _ = strconv.Atoi(m[3])
		}
		ns, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			return nil, err
		}
		k := key{m[1], m[2], cpu}
		if runs[k] == nil {
			runs[k] = &samples{}
		}
		runs[k].nsPerOp = append(runs[k].nsPerOp, ns)
		if a := allocs.FindStringSubmatch(m[5]); a != nil {
			v, _ := strconv.ParseFloat(a[1], 64)
			runs[k].allocs = append(runs[k].allocs, v)
		}
		if b := bytes.FindStringSubmatch(m[5]); b != nil {
			v, _ := strconv.ParseFloat(b[1], 64)
			runs[k].bytes = append(runs[k].bytes, v)
		}
	}
	return runs, sc.Err()
}

// target is "ours is at least want times faster than other", where speed is
// operations per second, so the ratio is other's ns/op over ours.
type target struct {
	workload string
	cpu      int
	other    string
	want     float64
}

var targets = []target{
	{"r100", 2, "otter", 2},
	{"r100", 2, "ristretto", 3},
	{"r100", 1, "otter", 1.25},
	{"r75w25", 2, "otter", 2},
	{"r75w25", 2, "lru", 1.5},
	{"w100", 1, "lru", 1},
	{"w100", 2, "lru", 1},
	{"aside", 2, "otter", 1.5},
}

const ours = "gridkeep"

func report(w io.Writer, runs map[key]*samples) {
	fmt.Fprintln(w, "| target | ratio of medians | p | verdict |")
	fmt.Fprintln(w, "|---|---:|---:|---|")
	for _, t := range targets {
		a, b := runs[key{t.workload, ours, t.cpu}], runs[key{t.workload, t.other, t.cpu}]
		name := fmt.Sprintf("%s, cpu=%d: %s ≥ %g× %s", t.workload, t.cpu, ours, t.want, t.other)
		if a == nil || b == nil {
			fmt.Fprintf(w, "| %s | – | – | not run |\n", name)
			continue
		}
		ratio := median(b.nsPerOp) / median(a.nsPerOp)
		p := mannWhitney(a.nsPerOp, b.nsPerOp)
		fmt.Fprintf(w, "| %s | %.2f | %.3f | %s |\n", name, ratio, p, verdict(ratio, t.want, p))
	}
	one, two := runs[key{"r100", ours, 1}], runs[key{"r100", ours, 2}]
	if one != nil && two != nil {
		ratio := median(one.nsPerOp) / median(two.nsPerOp)
		p := mannWhitney(one.nsPerOp, two.nsPerOp)
		fmt.Fprintf(w, "| r100: %s cpu=2 ≥ 1.7× cpu=1 | %.2f | %.3f | %s |\n",
			ours, ratio, p, verdict(ratio, 1.7, p))
	}
	for _, wl := range []string{"r100", "r75w25", "w100"} {
		for _, cpu := range []int{1, 2} {
			s := runs[key{wl, ours, cpu}]
			if s == nil || len(s.allocs) == 0 || len(s.bytes) == 0 {
				continue
			}
			// go test truncates allocs/op to an integer, so B/op shows
			// allocations made on only some operations.
			a, b := median(s.allocs), median(s.bytes)
			v := "met"
			if a != 0 || b != 0 {
				v = fmt.Sprintf("missed: %g B/op allocated", b)
			}
			fmt.Fprintf(w, "| %s, cpu=%d: no allocation | %g allocs/op, %g B/op | – | %s |\n",
				wl, cpu, a, b, v)
		}
	}
}

func verdict(ratio, want, p float64) string {
	switch {
	case ratio >= want && p < 0.05:
		return "met"
	case ratio >= want:
		return "met on medians, not significant"
	}
	return fmt.Sprintf("missed by %.0f%%", 100*(want-ratio)/want)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// mannWhitney returns the two-sided p-value of the Mann-Whitney U test
// that a and b come from the same distribution, by the normal
// approximation with a correction for ties.
func mannWhitney(a, b []float64) float64 {
	type obs struct {
		v     float64
		fromA bool
	}
	all := make([]obs, 0, len(a)+len(b))
	for _, v := range a {
		all = append(all, obs{v, true})
	}
	for _, v := range b {
		all = append(all, obs{v, false})
	}
	slices.SortFunc(all, func(x, y obs) int { return cmp.Compare(x.v, y.v) })
	n1, n2, n := float64(len(a)), float64(len(b)), float64(len(all))
	rankA, ties := 0.0, 0.0
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2
		t := float64(j - i)
		ties += t*t*t - t
		for k := i; k < j; k++ {
			if all[k].fromA {
				rankA += rank
			}
		}
		i = j
	}
	u := rankA - n1*(n1+1)/2
	mean := n1 * n2 / 2
	sd := math.Sqrt(n1 * n2 / 12 * ((n + 1) - ties/(n*(n-1))))
	if sd == 0 {
		return 1
	}
	z := (math.Abs(u-mean) - 0.5) / sd
	return math.Erfc(max(z, 0) / math.Sqrt2)
}
