package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/shell"
)

func init() {
	register(newPutCommand)
	register(newGetCommand)
	register(newLsCommand)
	register(newRmCommand)
	register(newStatCommand)
	register(newLocateCommand)
	register(newContainerCommand)
}

// DefaultProxy is where client commands find the namespace when neither
// --proxy nor GRIDKEEP_PROXY says otherwise.
const DefaultProxy = "http://127.0.0.1:6000"

// clientExitCodes documents the exit codes of the client commands.
const clientExitCodes = `
Exit codes: 0 success, 1 the operation failed (for instance no such object,
or a chunk server refused), 2 bad arguments, or interrupted (Ctrl-C or
SIGTERM) before the end.`

// addProxyFlag adds --proxy to cmd and returns where its value lands.
func addProxyFlag(cmd *cobra.Command) *string {
	p := new(string)
	proxyFlag(cmd.Flags(), p)
	return p
}

// envOr returns the value of the environment variable name, or def when
// it is unset or empty: as in the shell's ${NAME:-def}, an empty value
// counts as unset, so that "NAME= gridkeep ..." clears it for a command.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// proxyFlag defines --proxy in fl, with its value landing in p.
func proxyFlag(fl *pflag.FlagSet, p *string) {
	fl.StringVar(p, "proxy", envOr("GRIDKEEP_PROXY", DefaultProxy),
		"directory API URL (env GRIDKEEP_PROXY; empty counts as unset)")
}

// namespaceFlag defines --ns in fl, with its value landing in p. A command
// that defines it calls checkNamespaceFlag before using the value.
func namespaceFlag(fl *pflag.FlagSet, p *string) {
	fl.StringVar(p, "ns", envOr("GRIDKEEP_NS", meta.DefaultNamespace),
		"namespace name (env GRIDKEEP_NS; empty counts as unset)")
}

// checkNamespaceFlag refuses a namespace name, from --ns or else from
// GRIDKEEP_NS, that names no namespace, and says which gave it. An empty
// --ns is refused like any other bad name, rather than taken for the
// default namespace.
func checkNamespaceFlag(fl *pflag.FlagSet) error {
	f := fl.Lookup("ns")
	if err := chunk.CheckNamespace(f.Value.String()); err != nil {
		if f.Changed {
			return usagef("--ns: %w", err)
		}
		return usagef("GRIDKEEP_NS: %w", err)
	}
	return nil
}

// dirFlags say where a client command finds the namespace.
type dirFlags struct {
	proxy *string
	ns    string
	flags *pflag.FlagSet
}

// addDirFlags adds --proxy and --ns to cmd.
func addDirFlags(cmd *cobra.Command) *dirFlags {
	d := &dirFlags{proxy: addProxyFlag(cmd), flags: cmd.Flags()}
	namespaceFlag(cmd.Flags(), &d.ns)
	return d
}

func (d *dirFlags) client() (*meta.Client, error) {
	if err := checkNamespaceFlag(d.flags); err != nil {
		return nil, err
	}
	c, err := meta.NewClient(*d.proxy, meta.ClientOptions{Namespace: d.ns})
	if err != nil {
		return nil, usageError{explainedError{fmt.Sprintf("--proxy %q: want the directory's URL, "+
			"like %s", *d.proxy, DefaultProxy), err}}
	}
	return c, nil
}

func objectClient(d *dirFlags) (*object.Client, error) {
	dir, err := d.client()
	if err != nil {
		return nil, err
	}
	return &object.Client{Dir: dir, Rawx: &rawx.Client{}}, nil
}

// checkVersion refuses a --version the directory would refuse, and a
// --version 0 given (0 is the flag's default, the latest version: asked
// for, it is more likely a mistake than a way to name the latest).
func checkVersion(cmd *cobra.Command, version int64) error {
	if version < 0 || version == 0 && cmd.Flags().Changed("version") {
		return usagef("--version %d: versions are positive numbers "+
			"(`gridkeep ls --versions ACCOUNT/CONTAINER/OBJECT` lists them)", version)
	}
	return nil
}

// checkMimeType refuses a --mime-type that cannot be sent, before any
// data is.
func checkMimeType(mime string) error {
	if len(mime) > meta.MaxMimeTypeLen {
		return usagef("--mime-type of %d bytes: at most %d", len(mime), meta.MaxMimeTypeLen)
	}
	for _, r := range mime {
		if r < 0x20 || r == 0x7f {
			return usagef("--mime-type %q: control characters are not allowed", mime)
		}
	}
	return nil
}

func parseName(s string, needContainer, needObject bool) (object.Name, error) {
	n, err := object.ParseName(s, needContainer, needObject)
	if err != nil {
		return n, usageError{err}
	}
	return n, nil
}

// parseContainerName parses ACCOUNT/CONTAINER, refusing an object part: a
// container command given an object's name would act on its container.
func parseContainerName(s string) (object.Name, error) {
	n, err := parseName(s, true, false)
	if err == nil && n.Path != "" {
		err = usagef("%q names an object: want ACCOUNT/CONTAINER", s)
	}
	return n, err
}

// parseProperties turns k=v flags into a map.
func parseProperties(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	props := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("property %q: want KEY=VALUE", kv)
		}
		props[k] = v
	}
	return props, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func newPutCommand() *cobra.Command {
	var policy, mime string
	var props []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "put ACCOUNT/CONTAINER/OBJECT FILE|-",
		Short: "Store an object from a file or standard input",
		Long: `Store an object. Its data is streamed to the chunk servers the directory
picks, every copy of each metachunk at once; the object is committed only
when every copy is written. The container is created if needed.` + clientExitCodes,
		Args: cobra.ExactArgs(2),
	}
	at := addDirFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&policy, "policy", "", "storage policy: SINGLE, TWOCOPIES, THREECOPIES (default: the container's)")
	f.StringVar(&mime, "mime-type", "", "mime type of the object")
	f.StringArrayVar(&props, "property", nil, "object property KEY=VALUE (repeatable)")
	f.BoolVar(&asJSON, "json", false, "print the stored object as JSON")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, err := parseName(args[0], true, true)
		if err != nil {
			return err
		}
		properties, err := parseProperties(props)
		if err != nil {
			return err
		}
		if err := meta.CheckUpdate(meta.PropertyUpdate{Set: properties}); err != nil {
			return usageError{err} // refused before any data is sent
		}
		if err := checkMimeType(mime); err != nil {
			return err
		}
		oc, err := objectClient(at)
		if err != nil {
			return err
		}
		src, opts, closeSrc, err := openSource(args[1], readUntilDone(cmd.Context(), cmd.InOrStdin()))
		if err != nil {
			return err
		}
		defer closeSrc()
		opts.Policy, opts.MimeType, opts.Properties = policy, mime, properties
		total := int64(-1)
		if opts.SizeKnown {
			total = opts.Size
		}
		bar := newByteProgress(total, "put "+visible(name.Path), !asJSON)
		oc.Progress = bar.Add
		o, err := oc.Put(cmd.Context(), name, src, opts)
		bar.Done()
		if err != nil {
			return request{op: "put", name: name, proxy: *at.proxy}.explain(err)
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), objectJSON(o))
		}
		positions := map[string]bool{}
		for _, c := range o.Chunks {
			positions[c.Pos] = true
		}
		fmt.Fprintf(cmd.OutOrStdout(), "stored %s: %d bytes, version %d, content %s, %s in %s\n",
			visible(name.String()), o.Size, o.Version, visible(o.ContentID),
			plural(int64(len(positions)), "metachunk"), plural(int64(len(o.Chunks)), "chunk file"))
		return nil
	}
	return cmd
}

// openSource opens the data of a put: a file (size known) or "-", stdin.
// The file is opened without blocking, so that a named pipe or a device
// is refused at once rather than waited on.
func openSource(arg string, stdin io.Reader) (io.Reader, object.PutOptions, func(), error) {
	if arg == "-" {
		return stdin, object.PutOptions{}, func() {}, nil
	}
	f, err := os.OpenFile(arg, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, object.PutOptions{}, nil, usagef("cannot read %s: %w", arg, pathCause(err))
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, object.PutOptions{}, nil, usagef("%s is not a regular file "+
			"(to store a stream, give - and pipe it to standard input)", arg)
	}
	return f, object.PutOptions{Size: st.Size(), SizeKnown: true}, func() { f.Close() }, nil
}

func newGetCommand() *cobra.Command {
	var out string
	var version int64
	cmd := &cobra.Command{
		Use:   "get ACCOUNT/CONTAINER/OBJECT [-o FILE]",
		Short: "Read an object to a file or standard output",
		Long: `Read an object. Each metachunk is read from one copy and verified (size and
hash) before it is written out; a copy that fails or does not match is
replaced by the next one. The whole object is checked against its MD5. With
-o the file appears only once the object is read whole, written to a hidden
.FILE.part-* file beside it and then renamed: an existing file is replaced
by a new one with the same permissions (other hard links to it keep the old
content); a symbolic link is followed (the file it leads to is replaced),
and a device or a named pipe is written to as it is (a pipe must have a
reader). A get that is killed leaves its .part file behind; the next get
to the same file removes those no running get holds.` + clientExitCodes,
		Args: cobra.ExactArgs(1),
	}
	at := addDirFlags(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (default: standard output)")
	intVar(cmd.Flags(), &version, "version", 0, "object version (default: the latest)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, err := parseName(args[0], true, true)
		if err != nil {
			return err
		}
		if err := checkVersion(cmd, version); err != nil {
			return err
		}
		if out == "" && cmd.Flags().Changed("output") {
			return usagef("--output needs a file name (leave it out for standard output)")
		}
		oc, err := objectClient(at)
		if err != nil {
			return err
		}
		w, commit, abort, err := openDestination(out, cmd.OutOrStdout())
		if err != nil {
			return err
		}
		w = writeUntilDone(cmd.Context(), w) // standard output or a named pipe may stall
		bar := newByteProgress(-1, "get "+visible(name.Path), out != "")
		oc.Progress = bar.Add
		_, err = oc.Get(cmd.Context(), name, version, w)
		bar.Done()
		if err != nil {
			abort()
			return request{op: "get", name: name, version: version, proxy: *at.proxy}.explain(err)
		}
		return commit()
	}
	return cmd
}

// umask returns the process's file mode creation mask.
func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}

// pathCause returns the cause of a failed file operation without the
// operation and path, which the caller says in its own words.
func pathCause(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// openDestination returns where a get writes: a temporary file renamed to
// path when complete, or stdout. A symbolic link is followed: the file it
// leads to is replaced, not the link. A device or a named pipe (/dev/null,
// a FIFO a reader waits on) is written to as it is, never replaced.
func openDestination(path string, stdout io.Writer) (io.Writer, func() error, func(), error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	st, statErr := os.Stat(path)
	if statErr == nil && st.IsDir() {
		// Found now, not once the object is read.
		return nil, nil, nil, usagef("cannot write %s: it is a directory", path)
	} else if statErr == nil && !st.Mode().IsRegular() {
		// Opened where it is, through the links the system follows:
		// /dev/stdout leads to /proc/self/fd/1, whose link to a pipe
		// reads "pipe:[N]", which names no file.
		return openSpecial(path, st.Mode()&os.ModeNamedPipe != 0)
	}
	mode := 0o644 &^ umask()
	if statErr == nil {
		mode = st.Mode().Perm() // the file it replaces
	}
	path, err := followLinks(path)
	if err != nil {
		return nil, nil, nil, usagef("cannot write %s: %w", path, pathCause(err))
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	tmp, err := os.CreateTemp(dir, "."+base+partInfix+"*")
	if err != nil {
		return nil, nil, nil, usagef("cannot write %s: %w", path, pathCause(err))
	}
	// Held until the process ends, so that other gets see the file in
	// use; then they may remove it.
	syscall.Flock(int(tmp.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	removeStaleParts(dir, base, tmp.Name())
	commit := func() error {
		err := tmp.Chmod(mode)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("cannot write %s: %w", path, pathCause(err))
		}
		return nil
	}
	abort := func() { tmp.Close(); os.Remove(tmp.Name()) }
	return tmp, commit, abort, nil
}

// partInfix follows the name of the file a get writes in the name of its
// temporary file, before a random suffix.
const partInfix = ".part-"

// staleAge is how long a temporary file of a get must have gone unwritten,
// besides being unlocked, to be removed by another: it covers the moment
// between its creation and its lock.
const staleAge = 2 * time.Second

// removeStaleParts removes the temporary files of gets of base in dir that
// ended without removing theirs (killed), but not ours: those no process
// holds a lock on and that were not written to lately. Failures are
// ignored: the file is merely left for a later get.
func removeStaleParts(dir, base, ours string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + partInfix
	for _, e := range entries {
		name := filepath.Join(dir, e.Name())
		if !strings.HasPrefix(e.Name(), prefix) || !e.Type().IsRegular() || name == ours {
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			if st, err := f.Stat(); err == nil && time.Since(st.ModTime()) > staleAge {
				os.Remove(name)
			}
		}
		f.Close()
	}
}

// followLinks returns the path that path leads to through symbolic links,
// the last of which may name a file that does not exist yet.
func followLinks(path string) (string, error) {
	for range 40 { // as the kernel's limit on links in a row
		st, err := os.Lstat(path)
		if err != nil || st.Mode()&os.ModeSymlink == 0 {
			return path, nil
		}
		to, err := os.Readlink(path)
		if err != nil {
			return path, err
		}
		if dir, _ := splitPath(path); !filepath.IsAbs(to) && dir != "." {
			to = dir + to // not cleaned: ".." after a link goes where the system goes
		}
		path = to
	}
	return path, syscall.ELOOP
}

// openSpecial opens a device or a named pipe for a get to write to. A pipe
// that no process reads is refused at once rather than waited on.
func openSpecial(path string, pipe bool) (io.Writer, func() error, func(), error) {
	flag := os.O_WRONLY
	if pipe {
		flag |= syscall.O_NONBLOCK // Go then waits for room in the pipe without blocking a thread
	}
	f, err := os.OpenFile(path, flag, 0)
	if pipe && errors.Is(err, syscall.ENXIO) {
		return nil, nil, nil, usagef("cannot write %s: no process reads this named pipe", path)
	}
	if err != nil {
		return nil, nil, nil, usagef("cannot write %s: %w", path, pathCause(err))
	}
	commit := func() error {
		if err := f.Close(); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, pathCause(err))
		}
		return nil
	}
	return f, commit, func() { f.Close() }, nil
}

func newRmCommand() *cobra.Command {
	var version int64
	cmd := &cobra.Command{
		Use:   "rm ACCOUNT/CONTAINER/OBJECT",
		Short: "Delete an object (a version, or the latest)",
		Long: `Delete an object. In a versioned container this creates a delete marker
unless --version names a version; --version naming a delete marker removes
the marker. A delete marker counts as one of the versions a container keeps
(container --versioning N): making one may purge the oldest version, which
removing the marker does not bring back. The chunk files are removed
afterwards by the event agent.` + clientExitCodes,
		Args: cobra.ExactArgs(1),
	}
	at := addDirFlags(cmd)
	intVar(cmd.Flags(), &version, "version", 0, "version to delete (default: the latest)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, err := parseName(args[0], true, true)
		if err != nil {
			return err
		}
		if err := checkVersion(cmd, version); err != nil {
			return err
		}
		dir, err := at.client()
		if err != nil {
			return err
		}
		res, err := dir.ContentDelete(cmd.Context(), name.Account, name.Container, name.Path, version)
		if err != nil {
			return request{op: "rm", name: name, version: version, proxy: *at.proxy}.explain(err)
		}
		fmt.Fprintln(cmd.OutOrStdout(), deleteMessage(name, version, res))
		return nil
	}
	return cmd
}

// deleteMessage says what a deletion of version (0: the latest) did. The
// directory flags both a marker it created and a marker it removed: a
// deletion of the latest version in a versioned container creates one, a
// deletion of a given version that is a marker removes that marker.
func deleteMessage(name object.Name, version int64, res meta.DeleteResult) string {
	n := visible(name.String())
	switch {
	case res.DeleteMarker && version == 0:
		return fmt.Sprintf("created delete marker version %d for %s: the object now reads as deleted "+
			"(`gridkeep rm --version %d %s` removes the marker)", res.Version, n, res.Version,
			visible(shell.Arg(name.String())))
	case res.DeleteMarker:
		return fmt.Sprintf("removed delete marker version %d of %s", res.Version, n)
	}
	return fmt.Sprintf("deleted %s version %d", n, res.Version)
}

// objectView is the JSON form of an object.
type objectView struct {
	Name        string            `json:"name"`
	Version     int64             `json:"version"`
	ContentID   string            `json:"content_id"`
	Deleted     bool              `json:"deleted,omitempty"`
	Policy      string            `json:"policy,omitempty"`
	ChunkMethod string            `json:"chunk_method,omitempty"`
	Size        int64             `json:"size"`
	Hash        string            `json:"hash,omitempty"`
	MimeType    string            `json:"mime_type,omitempty"`
	CTime       int64             `json:"ctime,omitempty"`
	MTime       int64             `json:"mtime,omitempty"`
	Properties  map[string]string `json:"properties,omitempty"`
	Chunks      []meta.Chunk      `json:"chunks,omitempty"`
}

func objectJSON(o *meta.Object) objectView {
	return objectView{Name: o.Name, Version: o.Version, ContentID: o.ContentID, Deleted: o.Deleted,
		Policy: o.Policy, ChunkMethod: o.ChunkMethod, Size: o.Size, Hash: o.Hash,
		MimeType: o.MimeType, CTime: o.CTime, MTime: o.MTime, Properties: o.Properties,
		Chunks: o.Chunks}
}

func newStatCommand() *cobra.Command {
	return newObjectViewCommand("stat", "Show an object's metadata and properties",
		func(ctx context.Context, dir *meta.Client, n object.Name, version int64) (*meta.Object, error) {
			return dir.ContentGetProperties(ctx, n.Account, n.Container, n.Path, version)
		}, printStat)
}

func printStat(out io.Writer, o *meta.Object) error {
	var t table
	t.add("name", visible(o.Name))
	t.add("version", strconv.FormatInt(o.Version, 10))
	t.add("content id", visible(o.ContentID))
	t.add("size", strconv.FormatInt(o.Size, 10))
	t.add("hash (md5)", visible(o.Hash))
	t.add("policy", visible(o.Policy))
	t.add("chunk method", visible(o.ChunkMethod))
	t.add("mime type", visible(o.MimeType))
	t.add("mtime", time.Unix(o.MTime, 0).UTC().Format(time.RFC3339))
	for _, k := range sortedKeys(o.Properties) {
		t.add("property "+visible(k), visible(o.Properties[k]))
	}
	return t.write(out)
}

func newLocateCommand() *cobra.Command {
	return newObjectViewCommand("locate",
		"Show where the chunks of an object are: positions, copies, servers",
		func(ctx context.Context, dir *meta.Client, n object.Name, version int64) (*meta.Object, error) {
			return dir.Locate(ctx, n.Account, n.Container, n.Path, version)
		}, printLocate)
}

func printLocate(out io.Writer, o *meta.Object) error {
	var t table
	t.add("POS", "SERVICE", "ADDRESS", "SIZE", "HASH", "SCORE", "CHUNK ID")
	for _, c := range o.Chunks {
		addr := strings.TrimPrefix(c.RealURL, "http://")
		addr, _, _ = strings.Cut(addr, "/")
		t.add(visible(c.Pos), visible(c.Host()), visible(addr), strconv.FormatInt(c.Size, 10),
			visible(c.Hash), strconv.Itoa(c.Score), visible(c.ID()))
	}
	return t.write(out)
}

// newObjectViewCommand builds a read-only command that fetches one object
// version and prints it as text or JSON.
func newObjectViewCommand(use, short string,
	fetch func(context.Context, *meta.Client, object.Name, int64) (*meta.Object, error),
	text func(io.Writer, *meta.Object) error) *cobra.Command {
	var version int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   use + " ACCOUNT/CONTAINER/OBJECT",
		Short: short,
		Long:  short + "." + clientExitCodes,
		Args:  cobra.ExactArgs(1),
	}
	at := addDirFlags(cmd)
	intVar(cmd.Flags(), &version, "version", 0, "object version (default: the latest)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, err := parseName(args[0], true, true)
		if err != nil {
			return err
		}
		if err := checkVersion(cmd, version); err != nil {
			return err
		}
		dir, err := at.client()
		if err != nil {
			return err
		}
		o, err := fetch(cmd.Context(), dir, name, version)
		if err != nil {
			return request{op: use, name: name, version: version, proxy: *at.proxy}.explain(err)
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), objectJSON(o))
		}
		return text(cmd.OutOrStdout(), o)
	}
	return cmd
}

func newLsCommand() *cobra.Command {
	var versions, asJSON bool
	cmd := &cobra.Command{
		Use:   "ls ACCOUNT[/CONTAINER[/PREFIX]]",
		Short: "List the containers of an account, or the objects of a container",
		Long:  "List containers, or objects whose names start with PREFIX." + clientExitCodes,
		Args:  cobra.ExactArgs(1),
	}
	at := addDirFlags(cmd)
	cmd.Flags().BoolVar(&versions, "versions", false, "list every version and delete marker")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, err := parseName(args[0], false, false)
		if err != nil {
			return err
		}
		dir, err := at.client()
		if err != nil {
			return err
		}
		if name.Container == "" {
			err = listContainers(cmd, dir, name.Account, asJSON)
		} else {
			err = listObjects(cmd, dir, name, versions, asJSON)
		}
		return request{op: "ls", name: name, proxy: *at.proxy}.explain(err)
	}
	return cmd
}

func listContainers(cmd *cobra.Command, dir *meta.Client, account string, asJSON bool) error {
	// The account routes carry no namespace: a wrong --ns is refused here
	// as it is by the routes that carry one.
	if err := dir.CheckNamespace(cmd.Context()); err != nil {
		return err
	}
	var t table
	if !asJSON {
		t.add("CONTAINER", "OBJECTS", "BYTES")
	}
	opts := meta.PageOptions{}
	for {
		page, err := dir.AccountContainers(cmd.Context(), account, opts)
		if err != nil {
			return err
		}
		for _, c := range page.Containers {
			if asJSON {
				printJSON(cmd.OutOrStdout(), map[string]any{"name": c.Name, "objects": c.Objects,
					"bytes": c.Bytes})
				continue
			}
			t.add(visible(c.Name), strconv.FormatInt(c.Objects, 10), strconv.FormatInt(c.Bytes, 10))
		}
		if !page.Truncated {
			break
		}
		opts.Marker = page.NextMarker
	}
	return t.write(cmd.OutOrStdout())
}

func listObjects(cmd *cobra.Command, dir *meta.Client, n object.Name, versions, asJSON bool) error {
	var t table
	if !asJSON {
		t.add("NAME", "SIZE", "VERSION", "MTIME", "HASH")
	}
	opts := meta.ListOptions{Prefix: n.Path, Versions: versions}
	for {
		page, err := dir.ContainerList(cmd.Context(), n.Account, n.Container, opts)
		if err != nil {
			return err
		}
		for _, o := range page.Objects {
			if asJSON {
				printJSON(cmd.OutOrStdout(), objectJSON(&o))
				continue
			}
			size := strconv.FormatInt(o.Size, 10)
			if o.Deleted {
				size = "(deleted)"
			}
			t.add(visible(o.Name), size, strconv.FormatInt(o.Version, 10),
				time.Unix(o.MTime, 0).UTC().Format(time.RFC3339), visible(o.Hash))
		}
		if !page.Truncated {
			break
		}
		opts.Marker, opts.VersionMarker = page.NextMarker, page.NextVersionMarker
	}
	return t.write(cmd.OutOrStdout())
}

var errNoChange = errors.New("nothing to change: give --property, --unset, --policy, --versioning or --replication")
