package integrity

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/gridkeep/gridkeep/internal/meta"
)

// memberKey names an item in its parent's listing: a container in its
// account's (Object empty).
type memberKey struct{ account, container string }

// listed is what a parent listing says about an item.
type listed struct {
	found   bool
	objects int64 // objects in a listed container
}

// objectKey names an object (all its versions) in its container.
type objectKey struct{ account, container, name string }

// walkAll checks every account the directory lists.
func (p *pass) walkAll() {
	c := p.c
	c.stats.listing.Add(1)
	defer c.stats.listing.Add(-1)
	marker := ""
	for p.ctx.Err() == nil {
		var page accountPage
		err := p.retry(func() (err error) {
			page, err = c.listAccounts(p.ctx, marker)
			return err
		})
		if err != nil {
			r := Result{Kind: KindAccount, Target: Target{Account: "*"}}
			r.fail("", err)
			p.emit(r)
			return
		}
		for _, a := range page.Listing {
			p.account(a.ID, p.depth(Target{Account: a.ID}))
		}
		if !page.Truncated || page.NextMarker == "" || page.NextMarker == marker {
			return
		}
		marker = page.NextMarker
	}
}

// accountPage is a page of the account service's account listing.
type accountPage struct {
	Listing []struct {
		ID string `json:"id"`
	} `json:"listing"`
	Truncated  bool   `json:"truncated"`
	NextMarker string `json:"next_marker"`
}

// listAccounts reads one page of GET /v1.0/account/list.
func (c *Checker) listAccounts(ctx context.Context, marker string) (accountPage, error) {
	q := url.Values{"limit": {"1000"}}
	if marker != "" {
		q.Set("marker", marker)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		c.proxyURL+"/v1.0/account/list?"+q.Encode(), nil)
	if err != nil {
		return accountPage{}, err
	}
	resp, err := c.dirHTTP.Do(req)
	if err != nil {
		return accountPage{}, fmt.Errorf("list accounts: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return accountPage{}, fmt.Errorf("list accounts: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return accountPage{}, fmt.Errorf("list accounts: status %d: %.200s", resp.StatusCode, b)
	}
	var page accountPage
	if err := json.Unmarshal(b, &page); err != nil {
		return accountPage{}, fmt.Errorf("list accounts: %w", err)
	}
	return page, nil
}

// account lists an account's containers and, with depth, checks them.
func (p *pass) account(account string, depth int) {
	c := p.c
	c.stats.listing.Add(1)
	defer c.stats.listing.Add(-1)
	if err := c.opts.Pacer.Wait(p.ctx, 1, 0); err != nil {
		return
	}
	r := Result{Kind: KindAccount, Target: Target{Account: account}}
	opts := meta.PageOptions{Limit: meta.MaxListLimit}
	for p.ctx.Err() == nil {
		var page *meta.ContainerList
		err := p.retry(func() (err error) {
			page, err = c.dir.AccountContainers(p.ctx, account, opts)
			return err
		})
		if err != nil {
			lookupError(&r, "", err)
			break
		}
		for _, ct := range page.Containers {
			c.members.Set(memberKey{account, ct.Name}, listed{found: true, objects: ct.Objects})
			if depth >= 2 {
				c.stats.expected.Add(ct.Objects)
			}
			if depth >= 1 {
				name := ct.Name
				p.goList(func() { p.container(account, name, depth-1, true) })
			}
		}
		if !page.Truncated || page.NextMarker == "" || page.NextMarker == opts.Marker {
			break
		}
		opts.Marker = page.NextMarker
	}
	if err := p.ctx.Err(); err != nil {
		r.fail("", err)
	}
	p.emit(r)
}

// parentAccount reports the account of an explicit target once: it must
// exist.
func (p *pass) parentAccount(account string) {
	if _, done := p.once.Load(parentKey(KindAccount, account)); done {
		return
	}
	r := Result{Kind: KindAccount, Target: Target{Account: account}}
	err := p.retry(func() error {
		_, err := p.c.dir.AccountShow(p.ctx, account)
		return err
	})
	if err != nil {
		lookupError(&r, "", err)
	}
	p.emitOnce(r)
}

func parentKey(k Kind, item string) string { return string(k) + "\x00" + item + "\x000" }

// member reports whether the account listing holds the container.
func (p *pass) member(account, container string) (listed, error) {
	key := memberKey{account, container}
	return p.c.members.GetOrLoad(p.ctx, key, func(ctx context.Context,
		k memberKey) (listed, error) {
		var page *meta.ContainerList
		err := p.retry(func() (err error) {
			page, err = p.c.dir.AccountContainers(ctx, account,
				meta.PageOptions{Prefix: container, Limit: 1})
			return err
		})
		if meta.Missing(err) {
			return listed{}, nil // no such account: it lists no container
		}
		if err != nil {
			return listed{}, err
		}
		for _, ct := range page.Containers {
			if ct.Name == container {
				return listed{found: true, objects: ct.Objects}, nil
			}
		}
		return listed{}, nil
	})
}

// container checks a container: its membership in the account listing
// (known when it came from there) and its object listing; with depth, its
// objects.
func (p *pass) container(account, container string, depth int, inListing bool) {
	c := p.c
	if err := c.opts.Pacer.Wait(p.ctx, 1, 0); err != nil {
		return
	}
	r := Result{Kind: KindContainer, Target: Target{Account: account, Container: container}}
	if !inListing {
		m, err := p.member(account, container)
		switch {
		case err != nil:
			r.fail("account listing", err)
		case !m.found:
			r.Errors = append(r.Errors, "Missing from account listing")
		default:
			if depth >= 1 {
				c.stats.expected.Add(m.objects)
			}
		}
	}
	if err := p.listObjects(account, container, depth); err != nil {
		lookupError(&r, "", err)
	}
	p.emit(r)
}

// listObjects pages through every version of every object of a container,
// with its chunks when the objects are to be checked (even when their
// chunks are not: the directory's chunk list is part of an object), and
// queues the object checks.
func (p *pass) listObjects(account, container string, depth int) error {
	opts := meta.ListOptions{Versions: true, Chunks: depth >= 1, Limit: meta.DefaultListLimit}
	for p.ctx.Err() == nil {
		var page *meta.ObjectList
		err := p.retry(func() (err error) {
			page, err = p.c.dir.ContainerList(p.ctx, account, container, opts)
			return err
		})
		if err != nil {
			return err
		}
		if depth >= 1 {
			for i := range page.Objects {
				o := &page.Objects[i]
				p.submit(func() {
					p.object(account, container, o, depth-1, nil)
				})
			}
		}
		if !page.Truncated {
			return nil
		}
		if page.NextMarker == opts.Marker && page.NextVersionMarker == opts.VersionMarker {
			return fmt.Errorf("list %s/%s: listing marker did not move", account, container)
		}
		opts.Marker, opts.VersionMarker = page.NextMarker, page.NextVersionMarker
	}
	return p.ctx.Err()
}
