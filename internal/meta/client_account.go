package meta

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// AccountShow returns an account and its counters.
func (c *Client) AccountShow(ctx context.Context, account string) (*Account, error) {
	var body wireAccount
	if _, err := c.do(ctx, c.accountCall(http.MethodGet, "account/show",
		url.Values{"id": {account}}), &body); err != nil {
		return nil, err
	}
	a := body.account()
	return &a, nil
}

// AccountCreate creates an account, and reports false when it existed.
func (c *Client) AccountCreate(ctx context.Context, account string) (bool, error) {
	rep, err := c.do(ctx, c.accountCall(http.MethodPut, "account/create",
		url.Values{"id": {account}}), nil)
	if err != nil {
		return false, err
	}
	return rep.status == http.StatusCreated, nil
}

// AccountContainers returns one page of an account's containers, with
// their names, counters and mtimes.
func (c *Client) AccountContainers(ctx context.Context, account string,
	opts PageOptions) (*ContainerList, error) {
	q := url.Values{"id": {account}}
	for k, v := range map[string]string{"prefix": opts.Prefix, "marker": opts.Marker,
		"end_marker": opts.EndMarker} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	var body struct {
		Listing    [][]any `json:"listing"`
		Truncated  bool    `json:"truncated"`
		NextMarker string  `json:"next_marker"`
	}
	if _, err := c.do(ctx, c.accountCall(http.MethodGet, "account/containers", q),
		&body); err != nil {
		return nil, err
	}
	l := &ContainerList{Truncated: body.Truncated, NextMarker: body.NextMarker}
	for _, row := range body.Listing {
		ct, err := containerRow(account, row)
		if err != nil {
			return nil, fmt.Errorf("account containers of %q: %w", account, err)
		}
		l.Containers = append(l.Containers, ct)
	}
	return l, nil
}

// containerRow reads a [name, objects, bytes, is_prefix, mtime] row.
func containerRow(account string, row []any) (Container, error) {
	if len(row) < 5 {
		return Container{}, fmt.Errorf("listing row of %d fields", len(row))
	}
	name, ok := row[0].(string)
	objects, ok2 := row[1].(float64)
	bytes, ok3 := row[2].(float64)
	mtime, ok4 := row[4].(float64)
	if !ok || !ok2 || !ok3 || !ok4 {
		return Container{}, fmt.Errorf("bad listing row %v", row)
	}
	return Container{ID: chunk.ContainerID(account, name), Account: account, Name: name,
		Objects: int64(objects), Bytes: int64(bytes), MTime: micros(mtime)}, nil
}

// Containers iterates over an account's containers, page after page.
func (c *Client) Containers(ctx context.Context, account string,
	opts PageOptions) iter.Seq2[Container, error] {
	return func(yield func(Container, error) bool) {
		for {
			l, err := c.AccountContainers(ctx, account, opts)
			if err != nil {
				yield(Container{}, err)
				return
			}
			for _, ct := range l.Containers {
				if !yield(ct, nil) {
					return
				}
			}
			if !l.Truncated || len(l.Containers) == 0 {
				return
			}
			opts.Marker = l.Containers[len(l.Containers)-1].Name
		}
	}
}

// AccountContainerShow returns a container as the account service shows
// it: counters, times, and the bucket's replication flag (see
// Container.ReplicationEnabled).
func (c *Client) AccountContainerShow(ctx context.Context, account,
	container string) (*Container, error) {
	var body wireContainerShow
	if _, err := c.do(ctx, c.accountCall(http.MethodGet, "account/container/show",
		url.Values{"id": {account}, "container": {container}}), &body); err != nil {
		return nil, err
	}
	return &Container{ID: chunk.ContainerID(account, container), Account: account,
		Name: body.Name, Objects: body.Objects, Bytes: body.Bytes, CTime: micros(body.CTime),
		MTime:  micros(body.MTime),
		Bucket: map[string]string{BucketReplicationEnabled: FormatBool(body.ReplicationEnabled)},
	}, nil
}

// BucketShow returns a bucket's account, counters and metadata; account
// may be empty when the bucket name is in one account only.
func (c *Client) BucketShow(ctx context.Context, bucket, account string) (*Container, error) {
	q := url.Values{"id": {bucket}}
	if account != "" {
		q.Set("account", account)
	}
	return c.bucketCall(ctx, c.accountCall(http.MethodGet, "bucket/show", q), bucket)
}

// BucketUpdate sets and removes bucket metadata, such as
// BucketReplicationEnabled, and returns the bucket.
func (c *Client) BucketUpdate(ctx context.Context, bucket, account string,
	set map[string]string, remove []string) (*Container, error) {
	q := url.Values{"id": {bucket}}
	if account != "" {
		q.Set("account", account)
	}
	k := c.accountCall(http.MethodPut, "bucket/update", q)
	k.body = wireBucketUpdate{Metadata: orEmpty(set), ToDelete: remove}
	return c.bucketCall(ctx, k, bucket)
}

func (c *Client) bucketCall(ctx context.Context, k *call, bucket string) (*Container, error) {
	var body wireBucket
	if _, err := c.do(ctx, k, &body); err != nil {
		return nil, err
	}
	return &Container{ID: chunk.ContainerID(body.Account, bucket), Account: body.Account,
		Name: bucket, Objects: body.Objects, Bytes: body.Bytes, CTime: micros(body.CTime),
		MTime: micros(body.MTime), Bucket: orEmpty(body.Metadata)}, nil
}
