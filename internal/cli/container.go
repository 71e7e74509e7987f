package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
)

func newContainerCommand() *cobra.Command {
	return groupCommand("container", "Create, show, change and delete containers (buckets)",
		newContainerCreateCommand(), newContainerShowCommand(), newContainerSetCommand(),
		newContainerDeleteCommand())
}

// containerFlags are the settings create and set share.
type containerFlags struct {
	props       []string
	unset       []string // set only
	policy      string
	versions    string
	replication string
	fl          *pflag.FlagSet
}

func (f *containerFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	f.fl = fl
	fl.StringArrayVar(&f.props, "property", nil, "user property KEY=VALUE (repeatable)")
	fl.StringVar(&f.policy, "policy", "", "default storage policy of the container's objects")
	fl.StringVar(&f.versions, "versioning", "",
		"versions to keep: -1 all, 0 or 1 only the latest, N (a delete marker counts as one)")
	fl.StringVar(&f.replication, "replication", "", "replicate the bucket's events: on or off")
}

// parse returns the user properties, system properties and bucket
// metadata the flags set.
func (f *containerFlags) parse() (props, system, bucket map[string]string, err error) {
	for _, name := range []string{"policy", "versioning", "replication"} {
		if fl := f.fl.Lookup(name); fl.Changed && fl.Value.String() == "" {
			return nil, nil, nil, usagef("--%s needs a value", name)
		}
	}
	if props, err = parseProperties(f.props); err != nil {
		return nil, nil, nil, err
	}
	for k := range props {
		if strings.HasPrefix(k, "sys.") {
			return nil, nil, nil, usagef("--property %q: names starting with sys. are the container's "+
				"system properties, set by --policy and --versioning", k)
		}
	}
	system = map[string]string{}
	if f.policy != "" {
		system[meta.SysPolicyStorage] = f.policy
	}
	if f.versions != "" {
		n, err := strconv.ParseInt(f.versions, 10, 64)
		if err != nil {
			return nil, nil, nil, usagef("--versioning %q is not an integer", f.versions)
		}
		// Stored as OpenIO clients write it: "007" and "+7" are 7.
		system[meta.SysPolicyVersion] = strconv.FormatInt(n, 10)
	}
	switch f.replication {
	case "":
	case "on", "off":
		bucket = map[string]string{meta.BucketReplicationEnabled: meta.FormatBool(f.replication == "on")}
	default:
		return nil, nil, nil, usagef("--replication %q: want on or off", f.replication)
	}
	return props, system, bucket, nil
}

// containerChange is what create and set are asked to apply.
type containerChange struct {
	name                  object.Name
	props, system, bucket map[string]string
	unset                 []string // user properties to remove
}

// changes reports whether c asks for any setting.
func (c containerChange) changes() bool {
	return len(c.props)+len(c.system)+len(c.bucket)+len(c.unset) > 0
}

// newContainerChangeCommand builds create or set: both parse a container
// name and the settings flags, then apply them through the directory and
// print what apply returns.
func newContainerChangeCommand(use, short string,
	apply func(context.Context, *meta.Client, containerChange) (string, error)) *cobra.Command {
	var f containerFlags
	cmd := &cobra.Command{
		Use:   use + " ACCOUNT/CONTAINER",
		Short: short,
		Long:  short + "." + clientExitCodes,
		Args:  cobra.ExactArgs(1),
	}
	at := addDirFlags(cmd)
	f.add(cmd)
	if use == "set" {
		cmd.Flags().StringArrayVar(&f.unset, "unset", nil, "remove the user property KEY (repeatable)")
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var c containerChange
		var err error
		if c.name, err = parseContainerName(args[0]); err != nil {
			return err
		}
		if c.props, c.system, c.bucket, err = f.parse(); err != nil {
			return err
		}
		for _, k := range f.unset {
			if _, ok := c.props[k]; ok || k == "" {
				return usagef("--unset %q: want a property name that --property does not set", k)
			}
		}
		c.unset = f.unset
		dir, err := at.client()
		if err != nil {
			return err
		}
		msg, err := apply(cmd.Context(), dir, c)
		if err != nil {
			return request{op: "container " + use, name: c.name, proxy: *at.proxy}.explain(err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", msg, visible(c.name.Account+"/"+c.name.Container))
		return nil
	}
	return cmd
}

// updateBucket applies the bucket metadata of c, if any.
func updateBucket(ctx context.Context, dir *meta.Client, c containerChange) error {
	if c.bucket == nil {
		return nil
	}
	_, err := dir.BucketUpdate(ctx, c.name.Container, c.name.Account, c.bucket, nil)
	return err
}

func newContainerCreateCommand() *cobra.Command {
	return newContainerChangeCommand("create", "Create a container; an existing one is left as it "+
		"is (exit 1 if settings were given)",
		func(ctx context.Context, dir *meta.Client, c containerChange) (string, error) {
			created, err := dir.ContainerCreate(ctx, c.name.Account, c.name.Container, c.props, c.system)
			switch {
			case err != nil:
				return "", err
			case !created && c.changes():
				// A script must not take settings it asked for as made.
				return "", fmt.Errorf("container %s/%s already exists, and the settings given were "+
					"not applied (`gridkeep container set` applies them)", c.name.Account,
					c.name.Container)
			case !created:
				return "already exists:", nil
			}
			return "created", updateBucket(ctx, dir, c)
		})
}

func newContainerSetCommand() *cobra.Command {
	return newContainerChangeCommand("set",
		"Set or remove properties, set the policies or replication of a container",
		func(ctx context.Context, dir *meta.Client, c containerChange) (string, error) {
			if !c.changes() {
				return "", usageError{errNoChange}
			}
			if len(c.unset) > 0 {
				err := dir.ContainerDelProperties(ctx, c.name.Account, c.name.Container, c.unset)
				if err != nil {
					return "", err
				}
			}
			if len(c.props) > 0 || len(c.system) > 0 {
				err := dir.ContainerSetProperties(ctx, c.name.Account, c.name.Container, c.props,
					c.system, false)
				if err != nil {
					return "", err
				}
			}
			return "updated", updateBucket(ctx, dir, c)
		})
}

func newContainerShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ACCOUNT/CONTAINER",
		Short: "Show a container's counters, properties and replication flag",
		Long:  "Show a container." + clientExitCodes,
		Args:  cobra.ExactArgs(1),
	}
	at := addDirFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, dir, err := containerArg(args[0], at)
		if err != nil {
			return err
		}
		req := request{op: "container show", name: name, proxy: *at.proxy}
		c, err := dir.ContainerGetProperties(cmd.Context(), name.Account, name.Container)
		if err != nil {
			return req.explain(err)
		}
		acct, err := dir.AccountContainerShow(cmd.Context(), name.Account, name.Container)
		if err != nil {
			return req.explain(err)
		}
		replication := acct.ReplicationEnabled()
		if asJSON {
			return printJSON(cmd.OutOrStdout(), map[string]any{"account": c.Account, "name": c.Name,
				"id": c.ID, "objects": c.Objects, "bytes": c.Bytes, "properties": c.Properties,
				"system": c.System, "replication_enabled": replication})
		}
		var t table
		t.add("account", visible(c.Account))
		t.add("name", visible(c.Name))
		t.add("id", visible(c.ID))
		t.add("objects", strconv.FormatInt(c.Objects, 10))
		t.add("bytes", strconv.FormatInt(c.Bytes, 10))
		t.add("replication", strconv.FormatBool(replication))
		for _, k := range sortedKeys(c.System) {
			t.add(visible(k), visible(c.System[k]))
		}
		for _, k := range sortedKeys(c.Properties) {
			t.add("property "+visible(k), visible(c.Properties[k]))
		}
		return t.write(cmd.OutOrStdout())
	}
	return cmd
}

func newContainerDeleteCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete ACCOUNT/CONTAINER",
		Short: "Delete an empty container",
		Long: "Delete a container. One that still holds objects, delete markers and " +
			"old versions included, is refused." + clientExitCodes,
		Args: cobra.ExactArgs(1),
	}
	at := addDirFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, dir, err := containerArg(args[0], at)
		if err != nil {
			return err
		}
		if err := dir.ContainerDestroy(cmd.Context(), name.Account, name.Container); err != nil {
			return request{op: "container delete", name: name, proxy: *at.proxy}.explain(err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", visible(name.Account+"/"+name.Container))
		return nil
	}
	return cmd
}

// containerArg parses a command's ACCOUNT/CONTAINER argument and returns
// it with a client of the directory at proxy.
func containerArg(arg string, at *dirFlags) (object.Name, *meta.Client, error) {
	name, err := parseContainerName(arg)
	if err != nil {
		return object.Name{}, nil, err
	}
	dir, err := at.client()
	return name, dir, err
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
