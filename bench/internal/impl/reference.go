package impl

import (
	"container/list"
	"time"
)

// The policies in this file exist only for the hit-ratio simulator: plain,
// single-goroutine versions of SIEVE and S3-FIFO, written from their papers,
// so that the default policy's choice can be checked against them.

type refEntry struct {
	key     string
	value   int
	visited bool // SIEVE
	freq    int  // S3-FIFO, up to 3
	small   bool // S3-FIFO: in the small queue
}

// sieve is SIEVE: a FIFO queue with a visited bit per entry and a hand that
// moves from the oldest entry towards the newest, evicting the first entry
// not visited since the hand last passed it.
type sieve struct {
	capacity int
	queue    *list.List // front is newest
	items    map[string]*list.Element
	hand     *list.Element
}

func newSieve(capacity int) *sieve {
	return &sieve{capacity: capacity, queue: list.New(), items: map[string]*list.Element{}}
}

func (s *sieve) Get(k string) (int, bool) {
	e, ok := s.items[k]
	if !ok {
		return 0, false
	}
	ent := e.Value.(*refEntry)
	ent.visited = true
	return ent.value, true
}

func (s *sieve) Set(k string, v int) {
	if e, ok := s.items[k]; ok {
		e.Value.(*refEntry).value = v
		return
	}
	if s.queue.Len() >= s.capacity {
		s.evict()
	}
	s.items[k] = s.queue.PushFront(&refEntry{key: k, value: v})
}

func (s *sieve) evict() {
	e := s.hand
	if e == nil {
		e = s.queue.Back()
	}
	for e.Value.(*refEntry).visited {
		e.Value.(*refEntry).visited = false
		if e = e.Prev(); e == nil {
			e = s.queue.Back()
		}
	}
	s.hand = e.Prev()
	delete(s.items, e.Value.(*refEntry).key)
	s.queue.Remove(e)
}

func (s *sieve) SetTTL(k string, v int, _ time.Duration) { s.Set(k, v) }

// s3fifo is S3-FIFO: new entries go to a small FIFO queue holding a tenth of
// the cache; those read again before they leave it move to the main FIFO
// queue, the others leave a ghost key behind, and a key found among the
// ghosts enters the main queue directly. The main queue reinserts entries
// read since they were last at its end.
type s3fifo struct {
	smallCap, mainCap int
	small, main       *list.List // front is newest
	items             map[string]*list.Element
	ghost             *list.List // keys, front is newest
	ghosts            map[string]*list.Element
}

func newS3FIFO(capacity int) *s3fifo {
	small := max(1, capacity/10)
	return &s3fifo{
		smallCap: small, mainCap: capacity - small,
		small: list.New(), main: list.New(), items: map[string]*list.Element{},
		ghost: list.New(), ghosts: map[string]*list.Element{},
	}
}

func (s *s3fifo) Get(k string) (int, bool) {
	e, ok := s.items[k]
	if !ok {
		return 0, false
	}
	ent := e.Value.(*refEntry)
	ent.freq = min(ent.freq+1, 3)
	return ent.value, true
}

func (s *s3fifo) Set(k string, v int) {
	if e, ok := s.items[k]; ok {
		e.Value.(*refEntry).value = v
		return
	}
	for s.small.Len()+s.main.Len() >= s.smallCap+s.mainCap {
		s.evict()
	}
	ent := &refEntry{key: k, value: v}
	if g, ok := s.ghosts[k]; ok {
		s.ghost.Remove(g)
		delete(s.ghosts, k)
		s.items[k] = s.main.PushFront(ent)
		return
	}
	ent.small = true
	s.items[k] = s.small.PushFront(ent)
}

func (s *s3fifo) evict() {
	if s.small.Len() >= s.smallCap || s.main.Len() == 0 {
		s.evictSmall()
	} else {
		s.evictMain()
	}
}

func (s *s3fifo) evictSmall() {
	for s.small.Len() > 0 {
		e := s.small.Back()
		ent := s.small.Remove(e).(*refEntry)
		if ent.freq > 1 {
			ent.small, ent.freq = false, 0
			s.items[ent.key] = s.main.PushFront(ent)
			if s.main.Len() > s.mainCap {
				s.evictMain()
			}
			continue
		}
		delete(s.items, ent.key)
		s.ghosts[ent.key] = s.ghost.PushFront(ent.key)
		if s.ghost.Len() > s.mainCap {
			delete(s.ghosts, s.ghost.Remove(s.ghost.Back()).(string))
		}
		return
	}
}

func (s *s3fifo) evictMain() {
	for s.main.Len() > 0 {
		e := s.main.Back()
		ent := e.Value.(*refEntry)
		if ent.freq > 0 {
			ent.freq--
			s.main.MoveToFront(e)
			continue
		}
		s.main.Remove(e)
		delete(s.items, ent.key)
		return
	}
}

func (s *s3fifo) SetTTL(k string, v int, _ time.Duration) { s.Set(k, v) }
