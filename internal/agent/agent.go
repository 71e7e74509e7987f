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
// does with each event. Handle returning an error makes the bus deliver the
// event again later.
type Step struct {
	Name   string // consumer group name, stable across restarts
	Types  []string
	Handle event.Handler
	// Workers is how many events the step handles at once; 0 means 1.
	Workers int
}

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
		if s.Handle == nil {
			return nil, fmt.Errorf("agent: step %q has no handler", s.Name)
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
				err := a.bus.Consume(ctx, event.Group{Name: s.Name, Types: s.Types}, a.logged(s))
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

// logged wraps a step's handler with a warning for each failure.
func (a *Agent) logged(s Step) event.Handler {
	return func(ctx context.Context, ev event.Event) error {
		err := s.Handle(ctx, ev)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("event step failed; will retry", "step", s.Name, "event", ev.Type,
				"req_id", ev.RequestID, "err", err)
		}
		return err
	}
}
