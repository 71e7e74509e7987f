package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/gridkeep/gridkeep/internal/meta"
)

// CreateAccount creates an account with no container.
func (s *Store) CreateAccount(ctx context.Context, name string) (bool, error) {
	if err := meta.CheckAccount(name); err != nil {
		return false, err
	}
	var created bool
	err := s.update(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `INSERT INTO accounts (name, ctime, mtime) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, name, w.micros(), w.micros())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		created = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("create account %q: %w", name, err)
	}
	return created, nil
}

const accountColumns = `name, ctime, mtime, containers, objects, bytes`

func scanAccount(r interface{ Scan(...any) error }) (meta.Account, error) {
	var a meta.Account
	err := r.Scan(&a.Name, &a.CTime, &a.MTime, &a.Containers, &a.Objects, &a.Bytes)
	return a, err
}

// Account returns an account and its counters.
func (s *Store) Account(ctx context.Context, name string) (*meta.Account, error) {
	if err := meta.CheckAccount(name); err != nil {
		return nil, err
	}
	a, err := scanAccount(s.plain().row(ctx,
		`SELECT `+accountColumns+` FROM accounts WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrNoSuchAccount
	}
	if err != nil {
		return nil, fmt.Errorf("account %q: %w", name, err)
	}
	return &a, nil
}

// ListAccounts lists accounts by name.
func (s *Store) ListAccounts(ctx context.Context,
	opts meta.PageOptions) (*meta.AccountList, error) {
	if err := checkPage(opts); err != nil {
		return nil, err
	}
	where, args := pageWhere("name", opts)
	limit := meta.PageLimit(opts.Limit)
	rows, err := s.plain().query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE `+
		where+` ORDER BY name LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	out := &meta.AccountList{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		if len(out.Accounts) == limit {
			out.Truncated = true
			break
		}
		out.Accounts = append(out.Accounts, a)
		out.NextMarker = a.Name
	}
	return out, rows.Err()
}

// ListContainers lists an account's containers by name.
func (s *Store) ListContainers(ctx context.Context, account string,
	opts meta.PageOptions) (*meta.ContainerList, error) {
	if _, err := s.Account(ctx, account); err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	if err := checkPage(opts); err != nil {
		return nil, err
	}
	where, args := pageWhere("name", opts)
	limit := meta.PageLimit(opts.Limit)
	rows, err := s.plain().query(ctx, `SELECT `+containerColumns+` FROM containers
		WHERE account = ? AND `+where+` ORDER BY name LIMIT ?`,
		append(append([]any{account}, args...), limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("list containers of %q: %w", account, err)
	}
	defer rows.Close()
	out := &meta.ContainerList{}
	for rows.Next() {
		c, err := scanContainer(rows)
		if err != nil {
			return nil, fmt.Errorf("list containers of %q: %w", account, err)
		}
		if len(out.Containers) == limit {
			out.Truncated = true
			break
		}
		out.Containers = append(out.Containers, c)
		out.NextMarker = c.Name
	}
	return out, rows.Err()
}

// checkPage refuses listing bounds no name could match usefully.
func checkPage(o meta.PageOptions) error {
	for _, v := range []string{o.Prefix, o.Marker, o.EndMarker} {
		if len(v) > meta.MaxObjectLen+1 || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%w: bad listing bound %q", meta.ErrInvalid, v)
		}
	}
	return nil
}

// pageWhere returns the condition selecting names of column col after the
// marker, before the end marker and starting with the prefix.
func pageWhere(col string, o meta.PageOptions) (string, []any) {
	conds := []string{col + ` > ?`}
	args := []any{o.Marker}
	if o.Prefix != "" {
		conds = append(conds, col+` >= ?`)
		args = append(args, o.Prefix)
		if succ, ok := successor(o.Prefix); ok {
			conds = append(conds, col+` < ?`)
			args = append(args, succ)
		}
	}
	if o.EndMarker != "" {
		conds = append(conds, col+` < ?`)
		args = append(args, o.EndMarker)
	}
	return strings.Join(conds, ` AND `), args
}

// successor returns the smallest string greater than every string that
// starts with s, in byte order, or false when there is none.
func successor(s string) (string, bool) {
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xFF {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
