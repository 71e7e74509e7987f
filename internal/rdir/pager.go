package rdir

import (
	"context"
	"errors"
	"fmt"
	"iter"
)

// All returns the records of vol that opts selects, in key order, reading
// pages of opts.Limit records from s and following their markers. A
// failure is yielded once as the last pair, with a zero Record.
func All(ctx context.Context, s Store, vol string, opts ListOptions) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		opts, err := opts.Normalize()
		if err != nil {
			yield(Record{}, fmt.Errorf("fetch %s: %w", vol, err))
			return
		}
		for {
			page, err := s.Fetch(ctx, vol, opts)
			if err != nil {
				yield(Record{}, err)
				return
			}
			for _, r := range page.Records {
				if !yield(r, nil) {
					return
				}
			}
			if !page.Truncated {
				return
			}
			if opts.Marker != "" && !After(page.Marker, opts.Marker, opts.ByChunk) {
				yield(Record{}, fmt.Errorf("fetch %s: marker %q does not advance past %q",
					vol, clip(page.Marker), clip(opts.Marker)))
				return
			}
			opts.Marker = page.Marker
		}
	}
}

// FullStatus counts every record of vol that opts selects, page after
// page, like OpenIO's client status call. The result is never truncated.
func FullStatus(ctx context.Context, s Store, vol string, opts ListOptions) (Status, error) {
	total := Status{Containers: map[string]Counts{}}
	opts, err := opts.Normalize()
	if err != nil {
		return Status{}, fmt.Errorf("status of %s: %w", vol, err)
	}
	for {
		st, err := s.Status(ctx, vol, opts)
		if err != nil {
			return Status{}, err
		}
		total.add(st)
		if !st.Truncated {
			return total, nil
		}
		if st.Marker <= opts.Marker {
			return Status{}, fmt.Errorf("status of %s: marker %q does not advance", vol, clip(st.Marker))
		}
		opts.Marker = st.Marker
	}
}

// add adds the counts of page st to s.
func (s *Status) add(st Status) {
	s.IncidentDate = st.IncidentDate
	s.Chunk.Total += st.Chunk.Total
	s.Chunk.ToRebuild += st.Chunk.ToRebuild
	for cid, c := range st.Containers {
		t := s.Containers[cid]
		t.Total += c.Total
		t.ToRebuild += c.ToRebuild
		s.Containers[cid] = t
	}
}

// ChunkRecords returns the records of a chunk id on vol, in every
// container (normally one), through the index lookup. A volume that was
// never indexed has none.
func ChunkRecords(ctx context.Context, s Store, vol, chunkID string) ([]Record, error) {
	var out []Record
	for r, err := range All(ctx, s, vol, ListOptions{ChunkID: chunkID}) {
		if errors.Is(err, ErrNoVolume) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
