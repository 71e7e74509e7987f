package cache

// policy decides which entry of a shard leaves when the shard is full. All
// its methods run under the shard's mutex.
type policy[K comparable, V any] interface {
	// add takes a node new to the cache and returns a node it gives up, or
	// nil. The node returned is no longer tracked by the policy. now is the
	// cache time, or 0 if no entry of the shard ever had a deadline.
	add(n *node[K, V], h uint64, now int64) *node[K, V]
	// replace puts n in the position of old, which holds the same key.
	replace(old, n *node[K, V])
	// remove forgets n.
	remove(n *node[K, V])
	// drain forgets every node, calling f on each in eviction order.
	drain(f func(n *node[K, V]))
}

// fifo evicts the entry inserted first. Reads and overwrites keep the
// position. Deleted entries leave holes that are squeezed out once they
// outnumber the live ones.
type fifo[K comparable, V any] struct {
	q        []*node[K, V]
	head     int
	count    int
	capacity int
}

func (p *fifo[K, V]) add(n *node[K, V], _ uint64, _ int64) *node[K, V] {
	var victim *node[K, V]
	if p.count == p.capacity {
		victim = p.pop()
	}
	if p.head > len(p.q)/2 || len(p.q)-p.head > 2*p.count+16 {
		p.compact()
	}
	n.setPos(len(p.q))
	p.q = append(p.q, n)
	p.count++
	return victim
}

// pop removes the oldest node.
func (p *fifo[K, V]) pop() *node[K, V] {
	for p.q[p.head] == nil {
		p.head++
	}
	n := p.q[p.head]
	p.q[p.head] = nil
	p.head++
	p.count--
	return n
}

// compact moves the live nodes to the front of the queue, in order.
func (p *fifo[K, V]) compact() {
	j := 0
	for _, n := range p.q[p.head:] {
		if n != nil {
			n.setPos(j)
			p.q[j] = n
			j++
		}
	}
	clear(p.q[j:])
	p.q = p.q[:j]
	p.head = 0
}

func (p *fifo[K, V]) replace(old, n *node[K, V]) {
	n.setPos(old.pos())
	p.q[n.pos()] = n
}

func (p *fifo[K, V]) remove(n *node[K, V]) {
	p.q[n.pos()] = nil
	p.count--
}

func (p *fifo[K, V]) drain(f func(n *node[K, V])) {
	q := p.q[p.head:]
	p.q, p.head, p.count = nil, 0, 0
	for _, n := range q {
		if n != nil {
			f(n)
		}
	}
}
