package cache

import (
	"slices"
	"strconv"
	"testing"
)

// The tests in this file encode the behaviour of OpenIO's CacheDict, which
// the FIFO policy reproduces.

func newDict(t *testing.T, size int, r *recorder) *Cache[string, int] {
	o := Options[string, int]{Capacity: size, Policy: FIFO}
	if r != nil {
		o.OnRemove = r.onRemove
	}
	return mustNew(t, o)
}

func keysPresent(c *Cache[string, int], keys ...string) []string {
	var in []string
	for _, k := range keys {
		if _, ok := c.Get(k); ok {
			in = append(in, k)
		}
	}
	return in
}

func TestDictDefaultSize(t *testing.T) {
	c := mustNew(t, Options[string, int]{Policy: FIFO})
	if got := c.Capacity(); got != 262144 {
		t.Fatalf("Capacity() = %d, want 262144", got)
	}
}

func TestDictEvictsOldestInserted(t *testing.T) {
	r := &recorder{}
	c := newDict(t, 3, r)
	for i, k := range []string{"a", "b", "c", "d", "e"} {
		c.Set(k, i)
	}
	if got := keysPresent(c, "a", "b", "c", "d", "e"); !slices.Equal(got, []string{"c", "d", "e"}) {
		t.Errorf("present = %v, want [c d e]", got)
	}
	want := []removal{{"a", 0, Evicted}, {"b", 1, Evicted}}
	if got := r.take(); !slices.Equal(got, want) {
		t.Errorf("removals = %v, want %v", got, want)
	}
}

func TestDictReadsDoNotRefresh(t *testing.T) {
	c := newDict(t, 3, nil)
	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("c", 3)
	for range 10 {
		wantGet(t, c, "a", 1, true)
	}
	c.Set("d", 4)
	wantGet(t, c, "a", 0, false)
	wantGet(t, c, "b", 2, true)
}

func TestDictOverwriteKeepsPosition(t *testing.T) {
	r := &recorder{}
	c := newDict(t, 3, r)
	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("c", 3)
	c.Set("a", 10)
	if c.Len() != 3 {
		t.Fatalf("Len() after overwrite = %d, want 3", c.Len())
	}
	wantGet(t, c, "a", 10, true)
	c.Set("d", 4)
	wantGet(t, c, "a", 0, false)
	if got := keysPresent(c, "b", "c", "d"); len(got) != 3 {
		t.Errorf("present = %v, want [b c d]", got)
	}
	want := []removal{{"a", 1, Replaced}, {"a", 10, Evicted}}
	if got := r.take(); !slices.Equal(got, want) {
		t.Errorf("removals = %v, want %v", got, want)
	}
}

func TestDictDeleteDoesNotEvict(t *testing.T) {
	r := &recorder{}
	c := newDict(t, 3, r)
	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("c", 3)
	if !c.Delete("b") {
		t.Fatal("Delete(b) = false, want true")
	}
	if c.Delete("b") {
		t.Error("second Delete(b) = true, want false")
	}
	c.Set("d", 4)
	if got := keysPresent(c, "a", "b", "c", "d"); !slices.Equal(got, []string{"a", "c", "d"}) {
		t.Errorf("present = %v, want [a c d]", got)
	}
	c.Set("e", 5)
	if got := keysPresent(c, "a", "c", "d", "e"); !slices.Equal(got, []string{"c", "d", "e"}) {
		t.Errorf("present = %v, want [c d e]", got)
	}
	want := []removal{{"b", 2, Deleted}, {"a", 1, Evicted}}
	if got := r.take(); !slices.Equal(got, want) {
		t.Errorf("removals = %v, want %v", got, want)
	}
}

func TestDictSizeOne(t *testing.T) {
	c := newDict(t, 1, nil)
	c.Set("a", 1)
	c.Set("b", 2)
	wantGet(t, c, "a", 0, false)
	wantGet(t, c, "b", 2, true)
	c.Set("b", 3)
	wantGet(t, c, "b", 3, true)
}

// TestDictClosingEmpty checks the ClosingCacheDict rules: every evicted
// value is closed, replaced values are reported apart, and emptying the
// cache closes what remains, oldest first.
func TestDictClosingEmpty(t *testing.T) {
	r := &recorder{}
	c := newDict(t, 4, r)
	for i := range 6 {
		c.Set(strconv.Itoa(i), i)
	}
	c.Set("3", 33)
	c.Clear()
	if c.Len() != 0 {
		t.Errorf("Len() after Clear = %d", c.Len())
	}
	want := []removal{
		{"0", 0, Evicted}, {"1", 1, Evicted}, {"3", 3, Replaced},
		{"2", 2, Cleared}, {"3", 33, Cleared}, {"4", 4, Cleared}, {"5", 5, Cleared},
	}
	if got := r.take(); !slices.Equal(got, want) {
		t.Errorf("removals =\n%v\nwant\n%v", got, want)
	}
	c.Set("x", 1)
	wantGet(t, c, "x", 1, true)
}

// TestDictLongRun checks insertion order over many inserts and deletes, so
// that the queue's compaction keeps the order.
func TestDictLongRun(t *testing.T) {
	const size = 50
	c := newDict(t, size, nil)
	var model []string // oldest first
	for i := range 5000 {
		k := strconv.Itoa(i)
		c.Set(k, i)
		model = append(model, k)
		if len(model) > size {
			model = model[1:]
		}
		if i%3 == 0 {
			victim := model[len(model)/2]
			c.Delete(victim)
			model = slices.DeleteFunc(model, func(s string) bool { return s == victim })
		}
	}
	if c.Len() != len(model) {
		t.Fatalf("Len() = %d, want %d", c.Len(), len(model))
	}
	for _, k := range model {
		if _, ok := c.Get(k); !ok {
			t.Fatalf("key %s missing", k)
		}
	}
}
