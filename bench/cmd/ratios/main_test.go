package main

import (
	"math"
	"strings"
	"testing"
)

func TestMannWhitney(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	b := []float64{11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	if p := mannWhitney(a, b); p > 0.001 {
		t.Errorf("fully separated samples: p = %v, want < 0.001", p)
	}
	if p := mannWhitney(a, a); p < 0.9 {
		t.Errorf("identical samples: p = %v, want ~1", p)
	}
}

func TestParseAndMedian(t *testing.T) {
	in := `BenchmarkThroughput/r100/impl=gridkeep-2 5720650  10.0 ns/op 16.61 Mops/s 0 B/op 0 allocs/op
BenchmarkThroughput/r100/impl=gridkeep-2 5720650  30.0 ns/op 16.61 Mops/s 0 B/op 0 allocs/op
BenchmarkThroughput/r100/impl=otter-2   	 5720650	        50.0 ns/op
BenchmarkThroughput/r100/impl=gridkeep   	 5720650	        20.0 ns/op
`
	runs, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := median(runs[key{"r100", "gridkeep", 2}].nsPerOp); got != 20 {
		t.Errorf("median = %v, want 20", got)
	}
	if got := runs[key{"r100", "gridkeep", 1}]; got == nil || len(got.nsPerOp) != 1 {
		t.Errorf("cpu=1 samples = %v", got)
	}
	if math.Abs(median(runs[key{"r100", "otter", 2}].nsPerOp)-50) > 0 {
		t.Error("otter median wrong")
	}
}
