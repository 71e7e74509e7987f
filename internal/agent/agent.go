// Package agent is the event agent: it consumes events from the bus and
// runs them through steps, each a durable consumer group of its own, so a
// slow or failing step never holds back another. Steps must be idempotent:
// the bus delivers at least once.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/gridkeep/gridkeep/internal/event"
)

// Step is one stage of the agent: the event types it takes and what it
// does with them, one event at a time (Handle) or several (HandleBatch).
// A handler returning an error makes the bus deliver the events again
// later.
type Step struct {
	Name   string // consumer group name, stable across restarts
	Types  []string
	Handle event.Handler
	// HandleBatch, set instead of Handle, receives the events that are
	// waiting, up to Batch at a time, on buses that can batch
	// (event.BatchConsumer), and one at a time on others.
	HandleBatch event.BatchHandler
	// Batch bounds the events given to HandleBatch at a time; 0 means
	// DefaultBatch.
	Batch int
	// Workers is how many members of the step's group run at once, each
	// handling its own events or batches; 0 means 1.
	Workers int
}

// DefaultBatch is the most events given to a step's HandleBatch at a time
// when Step.Batch is zero. A member fetches as many events ahead, and those
// of a member that crashed come back only after the bus's acknowledgement
// wait: a batch bound is also a bound on that backlog.
const DefaultBatch = 64

// Agent runs steps over a bus.
type Agent struct {
	bus   event.Bus
	steps []Step
	log   *slog.Logger
}

// New returns an agent running steps over bus. A nil logger discards.
func New(bus event.Bus, log *slog.Logger, steps ...Step) (*Agent, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, s := range steps {
		if (s.Handle == nil) == (s.HandleBatch == nil) {
			return nil, fmt.Errorf("agent: step %q needs one handler, Handle or HandleBatch", s.Name)
		}
		if err := (event.Group{Name: s.Name, Types: s.Types}).Validate(); err != nil {
			return nil, fmt.Errorf("agent: %w", err)
		}
	}
	return &Agent{bus: bus, steps: steps, log: log}, nil
}

// Run consumes until ctx is done, then waits for the handlers in flight.
// It returns nil after ctx is done, or the first error that stopped a
// step for another reason.
func (a *Agent) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	for _, s := range a.steps {
		for i := 0; i < max(s.Workers, 1); i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := a.consume(ctx, s)
				if err != nil && ctx.Err() == nil && !errors.Is(err, event.ErrClosed) {
					select {
					case errc <- fmt.Errorf("agent step %s: %w", s.Name, err):
					default:
					}
					cancel()
				}
			}()
		}
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// consume runs one member of s's group until ctx is done.
func (a *Agent) consume(ctx context.Context, s Step) error {
	g := event.Group{Name: s.Name, Types: s.Types}
	h := s.HandleBatch
	if h == nil {
		h = func(ctx context.Context, evs []event.Event) error { return s.Handle(ctx, evs[0]) }
	}
	h = a.logged(s, h)
	if bc, ok := a.bus.(event.BatchConsumer); ok && s.HandleBatch != nil {
		batch := s.Batch
		if batch <= 0 {
			batch = DefaultBatch
		}
		return bc.ConsumeBatch(ctx, g, batch, h)
	}
	return a.bus.Consume(ctx, g, func(ctx context.Context, ev event.Event) error {
		return h(ctx, []event.Event{ev})
	})
}

// logged wraps a step's handler with a warning for each failure.
func (a *Agent) logged(s Step, h event.BatchHandler) event.BatchHandler {
	return func(ctx context.Context, evs []event.Event) error {
		err := h(ctx, evs)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("event step failed; will retry", "step", s.Name, "event", evs[0].Type,
				"events", len(evs), "req_id", evs[0].RequestID, "err", err)
		}
		return err
	}
}
