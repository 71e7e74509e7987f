package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// Kinds of container properties.
const (
	kindUser   = "u"
	kindSystem = "s"
	kindBucket = "b"
)

const containerColumns = `cid, account, name, ctime, mtime, objects, bytes`

// scanContainer reads the containerColumns of a row, then into extra the
// columns that follow.
func scanContainer(r interface{ Scan(...any) error }, extra ...any) (meta.Container, error) {
	var c meta.Container
	err := r.Scan(append([]any{&c.ID, &c.Account, &c.Name, &c.CTime, &c.MTime, &c.Objects,
		&c.Bytes}, extra...)...)
	return c, err
}

// CreateContainer creates a container and, with its first container, its
// account.
func (s *Store) CreateContainer(ctx context.Context, spec meta.ContainerSpec) (bool, error) {
	if err := s.checkSpec(spec); err != nil {
		return false, fmt.Errorf("create container %q/%q: %w", spec.Account, spec.Name, err)
	}
	cid := chunk.ContainerID(spec.Account, spec.Name)
	var created bool
	err := s.update(ctx, func(ctx context.Context, w *wtx) error {
		var err error
		created, err = w.createContainer(cid, spec)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("create container %q/%q: %w", spec.Account, spec.Name, err)
	}
	return created, nil
}

func (s *Store) checkSpec(spec meta.ContainerSpec) error {
	if err := meta.CheckAccount(spec.Account); err != nil {
		return err
	}
	if err := meta.CheckContainer(spec.Name); err != nil {
		return err
	}
	if err := meta.CheckUpdate(meta.PropertyUpdate{Set: spec.Properties}); err != nil {
		return err
	}
	return meta.CheckSystem(s.ns, spec.System)
}

func (w *wtx) createContainer(cid string, spec meta.ContainerSpec) (bool, error) {
	now := w.micros()
	res, err := w.exec(w.ctx, `INSERT INTO containers (cid, account, name, ctime, mtime)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, cid, spec.Account, spec.Name, now, now)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if _, err := w.exec(w.ctx, `INSERT INTO accounts (name, ctime, mtime, containers)
		VALUES (?, ?, ?, 1) ON CONFLICT (name) DO UPDATE
		SET containers = accounts.containers + 1, mtime = excluded.mtime`,
		spec.Account, now, now); err != nil {
		return false, err
	}
	if err := w.setProps(cid, kindUser, meta.PropertyUpdate{Set: spec.Properties}); err != nil {
		return false, err
	}
	if err := w.setSystem(cid, spec.System); err != nil {
		return false, err
	}
	c, err := w.s.loadContainer(w.ctx, w.conn, cid)
	if err != nil {
		return false, err
	}
	return true, w.emitContainer(event.ContainerNew, c)
}

// Container returns a container with all its properties.
func (s *Store) Container(ctx context.Context, cid string) (*meta.Container, error) {
	c, err := s.loadContainer(ctx, s.plain(), cid)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", cid, err)
	}
	return c, nil
}

// loadContainer reads a container and its properties, and computes its
// system properties. One statement reads both, so that it sees one
// snapshot even outside a transaction.
func (s *Store) loadContainer(ctx context.Context, cn conn, cid string) (*meta.Container, error) {
	var props string
	c, err := scanContainer(cn.row(ctx, `SELECT `+containerColumns+`,
		(SELECT json_group_array(json_array(kind, pkey, pvalue)) FROM container_props p
			WHERE p.cid = c.cid)
		FROM containers c WHERE cid = ?`, cid), &props)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, meta.ErrNoSuchContainer
	}
	if err != nil {
		return nil, err
	}
	var rows [][3]string
	if err := json.Unmarshal([]byte(props), &rows); err != nil {
		return nil, fmt.Errorf("container %s properties: %w", cid, err)
	}
	c.Properties, c.Bucket = map[string]string{}, map[string]string{}
	c.System = s.computedSystem(&c)
	for _, r := range rows {
		switch kind, k, v := r[0], r[1], r[2]; kind {
		case kindUser:
			c.Properties[k] = v
		case kindSystem:
			c.System[k] = v
		case kindBucket:
			c.Bucket[k] = v
		}
	}
	return &c, nil
}

func (s *Store) computedSystem(c *meta.Container) map[string]string {
	return map[string]string{
		meta.SysAccount:       c.Account,
		meta.SysUserName:      c.Name,
		meta.SysName:          meta.BaseName(c.ID),
		meta.SysCTime:         strconv.FormatInt(c.CTime, 10),
		meta.SysObjects:       strconv.FormatInt(c.Objects, 10),
		meta.SysUsage:         strconv.FormatInt(c.Bytes, 10),
		meta.SysNS:            s.ns.Name,
		meta.SysType:          "meta2",
		meta.SysStatus:        "0",
		meta.SysPolicyStorage: s.ns.DefaultPolicy,
		meta.SysPolicyVersion: strconv.FormatInt(s.ns.MaxVersions, 10),
	}
}

// FindContainers returns the containers called name, in account order.
func (s *Store) FindContainers(ctx context.Context, name string) ([]meta.Container, error) {
	if err := meta.CheckContainer(name); err != nil {
		return nil, err
	}
	rows, err := s.plain().query(ctx, `SELECT `+containerColumns+
		` FROM containers WHERE name = ? ORDER BY account`, name)
	if err != nil {
		return nil, fmt.Errorf("find containers %q: %w", name, err)
	}
	defer rows.Close()
	var out []meta.Container
	for rows.Next() {
		c, err := scanContainer(rows)
		if err != nil {
			return nil, fmt.Errorf("find containers %q: %w", name, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateContainer changes a container's properties and announces it.
func (s *Store) UpdateContainer(ctx context.Context, cid string, u meta.ContainerUpdate) error {
	bucket, err := s.checkContainerUpdate(u)
	if err != nil {
		return fmt.Errorf("update container %s: %w", cid, err)
	}
	err = s.update(ctx, func(ctx context.Context, w *wtx) error {
		if _, err := w.s.loadContainer(ctx, w.conn, cid); err != nil {
			return err
		}
		if err := w.setProps(cid, kindUser, u.Properties); err != nil {
			return err
		}
		if err := w.setSystem(cid, u.System); err != nil {
			return err
		}
		if err := w.setProps(cid, kindBucket, bucket); err != nil {
			return err
		}
		if _, err := w.exec(ctx, `UPDATE containers SET mtime = ? WHERE cid = ?`,
			w.micros(), cid); err != nil {
			return err
		}
		c, err := w.s.loadContainer(ctx, w.conn, cid)
		if err != nil {
			return err
		}
		return w.emitContainer(event.ContainerUpdate, c)
	})
	if err != nil {
		return fmt.Errorf("update container %s: %w", cid, err)
	}
	return nil
}

// checkContainerUpdate checks u and returns its bucket update with the
// replication flag written "True" or "False".
func (s *Store) checkContainerUpdate(u meta.ContainerUpdate) (meta.PropertyUpdate, error) {
	if err := meta.CheckUpdate(u.Properties); err != nil {
		return u.Bucket, err
	}
	if err := meta.CheckSystem(s.ns, u.System); err != nil {
		return u.Bucket, err
	}
	if err := meta.CheckBucket(u.Bucket); err != nil {
		return u.Bucket, err
	}
	v, ok := u.Bucket.Set[meta.BucketReplicationEnabled]
	if !ok {
		return u.Bucket, nil
	}
	b := u.Bucket
	b.Set = make(map[string]string, len(u.Bucket.Set))
	for k, val := range u.Bucket.Set {
		b.Set[k] = val
	}
	on, _ := meta.ParseBool(v)
	b.Set[meta.BucketReplicationEnabled] = meta.FormatBool(on)
	return b, nil
}

// setProps applies u to the container properties of one kind, then checks
// their count.
func (w *wtx) setProps(cid, kind string, u meta.PropertyUpdate) error {
	if u.IsZero() {
		return nil
	}
	if u.Flush {
		if _, err := w.exec(w.ctx, `DELETE FROM container_props WHERE cid = ? AND kind = ?`,
			cid, kind); err != nil {
			return err
		}
	}
	for _, k := range u.Delete {
		if _, err := w.exec(w.ctx, `DELETE FROM container_props
			WHERE cid = ? AND kind = ? AND pkey = ?`, cid, kind, k); err != nil {
			return err
		}
	}
	for k, v := range u.Set {
		if err := w.setProp(cid, kind, k, v); err != nil {
			return err
		}
	}
	var n int
	var size int64
	if err := w.row(w.ctx, `SELECT COUNT(*), `+propertiesSize+` FROM container_props
		WHERE cid = ? AND kind = ?`, cid, kind).Scan(&n, &size); err != nil {
		return err
	}
	return meta.CheckStored(n, size)
}

// propertiesSize sums the bytes of the keys and values of property rows.
const propertiesSize = `COALESCE(SUM(octet_length(pkey) + octet_length(pvalue)), 0)`

func (w *wtx) setProp(cid, kind, k, v string) error {
	_, err := w.exec(w.ctx, `INSERT INTO container_props (cid, kind, pkey, pvalue)
		VALUES (?, ?, ?, ?) ON CONFLICT (cid, kind, pkey) DO UPDATE SET pvalue = excluded.pvalue`,
		cid, kind, k, v)
	return err
}

// setSystem stores writable system properties; an empty value removes the
// stored one, restoring the default.
func (w *wtx) setSystem(cid string, sys map[string]string) error {
	u := meta.PropertyUpdate{Set: map[string]string{}}
	for k, v := range sys {
		if v == "" {
			u.Delete = append(u.Delete, k)
		} else {
			u.Set[k] = v
		}
	}
	return w.setProps(cid, kindSystem, u)
}

// DestroyContainer removes an empty container and announces it.
func (s *Store) DestroyContainer(ctx context.Context, cid string) error {
	err := s.update(ctx, func(ctx context.Context, w *wtx) error {
		c, err := w.s.loadContainer(ctx, w.conn, cid)
		if err != nil {
			return err
		}
		var one int
		err = w.row(ctx, `SELECT 1 FROM aliases WHERE cid = ? LIMIT 1`, cid).Scan(&one)
		switch {
		case err == nil:
			return meta.ErrContainerNotEmpty
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		return w.dropContainer(c)
	})
	if err != nil {
		return fmt.Errorf("destroy container %s: %w", cid, err)
	}
	return nil
}

func (w *wtx) dropContainer(c *meta.Container) error {
	if _, err := w.exec(w.ctx, `DELETE FROM container_props WHERE cid = ?`, c.ID); err != nil {
		return err
	}
	if _, err := w.exec(w.ctx, `DELETE FROM containers WHERE cid = ?`, c.ID); err != nil {
		return err
	}
	if _, err := w.exec(w.ctx, `UPDATE accounts SET containers = containers - 1,
		objects = objects - ?, bytes = bytes - ?, mtime = ? WHERE name = ?`,
		c.Objects, c.Bytes, w.micros(), c.Account); err != nil {
		return err
	}
	return w.emitContainer(event.ContainerDeleted, c)
}

// addStats changes the counters of a container and of its account.
func (w *wtx) addStats(c *meta.Container, objects, bytes int64) error {
	now := w.micros()
	if _, err := w.exec(w.ctx, `UPDATE containers SET objects = objects + ?,
		bytes = bytes + ?, mtime = ? WHERE cid = ?`, objects, bytes, now, c.ID); err != nil {
		return err
	}
	_, err := w.exec(w.ctx, `UPDATE accounts SET objects = objects + ?, bytes = bytes + ?,
		mtime = ? WHERE name = ?`, objects, bytes, now, c.Account)
	return err
}
